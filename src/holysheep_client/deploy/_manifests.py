"""
Core Kubernetes kinds other than workloads: namespace guard rails, networking,
configuration and disruption budgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._meta import K8sObject, LabelSelector, Manifest

__all__ = [
    "ConfigMap",
    "LimitRange",
    "LimitRangeItem",
    "LimitRangeSpec",
    "Namespace",
    "NetworkPolicy",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicySpec",
    "PodDisruptionBudget",
    "PodDisruptionBudgetSpec",
    "ResourceQuota",
    "ResourceQuotaSpec",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServicePort",
    "ServiceSpec",
]


@dataclass(frozen=True, slots=True)
class Namespace(Manifest):
    """
    A Namespace (``v1``); cluster-scoped, so ``metadata.namespace`` stays unset.
    """

    kind = "Namespace"


@dataclass(frozen=True, slots=True)
class ServiceAccount(Manifest):
    """
    The identity pods run as (``v1``).

    Attributes:
        automount_service_account_token: ``False`` keeps the API token out of pods
            that never call the Kubernetes API.
    """

    kind = "ServiceAccount"

    automount_service_account_token: bool | None = None


@dataclass(frozen=True, slots=True)
class ResourceQuotaSpec(K8sObject):
    """
    Hard caps on the namespace's total, e.g. ``{"requests.cpu": "64"}``.
    """

    hard: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ResourceQuota(Manifest):
    """
    A ResourceQuota (``v1``): caps the namespace's summed requests, limits and pods.
    """

    kind = "ResourceQuota"

    spec: ResourceQuotaSpec


@dataclass(frozen=True, slots=True)
class LimitRangeItem(K8sObject):
    """
    Bounds and defaults for one type of object (``Container`` or ``Pod``).
    """

    type: str
    max: Mapping[str, str] | None = None
    min: Mapping[str, str] | None = None
    default: Mapping[str, str] | None = None
    default_request: Mapping[str, str] | None = None
    max_limit_request_ratio: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class LimitRangeSpec(K8sObject):
    """
    The list of bounds a LimitRange enforces.
    """

    limits: tuple[LimitRangeItem, ...]


@dataclass(frozen=True, slots=True)
class LimitRange(Manifest):
    """
    A LimitRange (``v1``): per-container bounds, and defaults for containers without any.
    """

    kind = "LimitRange"

    spec: LimitRangeSpec


@dataclass(frozen=True, slots=True)
class ServicePort(K8sObject):
    """
    One port of a Service; ``name`` starting with ``http`` tells Istio the protocol.
    """

    port: int
    target_port: int | str | None = None
    protocol: str | None = None
    name: str | None = None
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceSpec(K8sObject):
    """
    Which pods a Service selects and the ports it exposes.
    """

    selector: Mapping[str, str] | None = None
    ports: tuple[ServicePort, ...] | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Service(Manifest):
    """
    A Service (``v1``): a stable name and virtual IP in front of selected pods.
    """

    kind = "Service"

    spec: ServiceSpec


@dataclass(frozen=True, slots=True)
class ConfigMap(Manifest):
    """
    A ConfigMap (``v1``): non-secret configuration, e.g. a ``config.yaml`` file.
    """

    kind = "ConfigMap"

    data: Mapping[str, str] | None = None
    immutable: bool | None = None


@dataclass(frozen=True, slots=True)
class Secret(Manifest):
    """
    A Secret (``v1``).

    Its ``repr`` names the keys and never the values. The reference stack renders one
    only when a key is asked for by name from the environment; by default the pods
    reference an existing Secret created out of band.
    """

    kind = "Secret"

    immutable: bool | None = None
    string_data: Mapping[str, str] | None = field(default=None, repr=False)
    type: str | None = None

    def __repr__(self) -> str:
        keys = sorted(self.string_data or {})
        return f"<Secret name={self.name!r} keys={keys!r}>"


@dataclass(frozen=True, slots=True)
class NetworkPolicyPort(K8sObject):
    """
    A port (and protocol) a NetworkPolicy rule allows.
    """

    protocol: str | None = None
    port: int | str | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicyPeer(K8sObject):
    """
    Who a NetworkPolicy rule allows: pods, namespaces, or both.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicyIngressRule(K8sObject):
    """
    Allowed ingress: from these peers (``from``) to these ports.
    """

    from_: tuple[NetworkPolicyPeer, ...] | None = None
    ports: tuple[NetworkPolicyPort, ...] | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicySpec(K8sObject):
    """
    The pods a NetworkPolicy isolates and the traffic it still allows.
    """

    pod_selector: LabelSelector
    ingress: tuple[NetworkPolicyIngressRule, ...] | None = None
    policy_types: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicy(Manifest):
    """
    A NetworkPolicy (``networking.k8s.io/v1``).
    """

    api_version = "networking.k8s.io/v1"
    kind = "NetworkPolicy"

    spec: NetworkPolicySpec


@dataclass(frozen=True, slots=True)
class PodDisruptionBudgetSpec(K8sObject):
    """
    How many selected pods voluntary disruptions (drains, upgrades) may take down.
    """

    selector: LabelSelector
    max_unavailable: int | str | None = None
    min_available: int | str | None = None
    unhealthy_pod_eviction_policy: str | None = None


@dataclass(frozen=True, slots=True)
class PodDisruptionBudget(Manifest):
    """
    A PodDisruptionBudget (``policy/v1``).
    """

    api_version = "policy/v1"
    kind = "PodDisruptionBudget"

    spec: PodDisruptionBudgetSpec
