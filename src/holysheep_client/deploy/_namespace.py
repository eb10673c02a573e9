"""
The namespace's own objects: the Namespace, the pods' ServiceAccount, the LimitRange,
the NetworkPolicy in front of the tracks, and the ResourceQuota computed from the
workloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from ..errors import ConfigError
from ._app import APP_LABEL, HTTP_PORT, METRICS_PORT
from ._manifests import (
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    Namespace,
    NetworkPolicy,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ResourceQuota,
    ResourceQuotaSpec,
    ServiceAccount,
)
from ._meta import LabelSelector, ObjectMeta
from ._plan import APP, Component, Plan, Workload, object_meta
from ._units import format_cpu, format_memory, parse_quantity

__all__ = ["MESH_POD_LABEL", "gateway_namespace", "namespace_objects", "quota"]

MESH_POD_LABEL = {"security.istio.io/tlsMode": "istio"}
"""The label Istio's injector puts on every pod that gets a sidecar."""
_LIMIT_MAX = {"cpu": "8", "memory": "32Gi"}
# Low enough for Istio's init container and sidecar.
_LIMIT_MIN = {"cpu": "10m", "memory": "10Mi"}


def gateway_namespace(plan: Plan) -> str | None:
    """
    The namespace of the values' gateway (its ``namespace/`` prefix, else the app's).
    """
    gateway = plan.values.gateway
    if gateway is None:
        return None
    return gateway.rpartition("/")[0] or plan.namespace


def _limit_range(plan: Plan) -> LimitRange:
    resources = plan.values.resources
    highest = dict(_LIMIT_MAX)
    for name, value in resources.effective_limits.items():
        if name in highest and parse_quantity(value) > parse_quantity(highest[name]):
            highest[name] = value
    for section, given in (
        ("requests", resources.effective_requests),
        ("limits", resources.effective_limits),
    ):
        for name, low in _LIMIT_MIN.items():
            if parse_quantity(given[name]) < parse_quantity(low):
                raise ConfigError(
                    f"resources.{section}.{name}",
                    f"is below the LimitRange minimum {low}, so the pods are rejected",
                )
    return LimitRange(
        metadata=object_meta(plan, "deerflow-limits"),
        spec=LimitRangeSpec(
            limits=(
                LimitRangeItem(
                    type="Container",
                    max=highest,
                    min=dict(_LIMIT_MIN),
                    default={"cpu": "2", "memory": "4Gi"},
                    default_request={"cpu": "1", "memory": "2Gi"},
                ),
            )
        ),
    )


def _network_policy(plan: Plan) -> NetworkPolicy:
    # Sidecar pods anywhere (the mesh applies the weights on their side), and the
    # gateway's pods; a caller without a sidecar would be split by pod count instead.
    peers = [
        NetworkPolicyPeer(
            pod_selector=LabelSelector(match_labels=MESH_POD_LABEL),
            namespace_selector=LabelSelector(),
        )
    ]
    gateway_ns = gateway_namespace(plan)
    if gateway_ns == plan.namespace:
        peers.append(NetworkPolicyPeer(pod_selector=LabelSelector()))
    elif gateway_ns is not None:
        peers.append(
            NetworkPolicyPeer(
                namespace_selector=LabelSelector(
                    match_labels={"kubernetes.io/metadata.name": gateway_ns}
                )
            )
        )
    monitoring = NetworkPolicyPeer(
        namespace_selector=LabelSelector(
            match_labels={"kubernetes.io/metadata.name": "monitoring"}
        )
    )
    return NetworkPolicy(
        metadata=object_meta(plan, APP, app=APP_LABEL),
        spec=NetworkPolicySpec(
            pod_selector=LabelSelector(match_labels={"app": APP_LABEL}),
            ingress=(
                NetworkPolicyIngressRule(
                    from_=tuple(peers), ports=(NetworkPolicyPort("TCP", HTTP_PORT),)
                ),
                NetworkPolicyIngressRule(
                    from_=(monitoring,),
                    ports=(
                        NetworkPolicyPort("TCP", METRICS_PORT),
                        NetworkPolicyPort("TCP", 15020),
                        NetworkPolicyPort("TCP", 15090),
                    ),
                ),
            ),
            policy_types=("Ingress",),
        ),
    )


def namespace_objects(plan: Plan) -> Component:
    """
    The Namespace (sidecar injection on), ServiceAccount, LimitRange and NetworkPolicy.

    Raises:
        ConfigError: The values' requests or limits are below the LimitRange minimum.
    """
    namespace = Namespace(
        metadata=ObjectMeta(
            name=plan.namespace,
            labels={
                "env": "production",
                "team": "ai-platform",
                **(plan.labels or {}),
                "istio-injection": "enabled",
            },
            annotations=dict(plan.values.annotations) or None,
        )
    )
    account = ServiceAccount(
        metadata=object_meta(plan, APP, app=APP_LABEL),
        automount_service_account_token=False,
    )
    return Component(
        objects=(namespace, account, _limit_range(plan), _network_policy(plan))
    )


def quota(plan: Plan, workloads: Sequence[Workload]) -> ResourceQuota:
    """
    The ResourceQuota that holds every workload at its most pods: maximum replicas, a
    rollout's surge, and the old pods still terminating.
    """

    def total(field: str, resource: str) -> Fraction:
        return sum(
            (w.max_pods * getattr(w, field)[resource] for w in workloads), Fraction(0)
        )

    hard = {
        "requests.cpu": format_cpu(total("requests", "cpu")),
        "requests.memory": format_memory(total("requests", "memory")),
        "limits.cpu": format_cpu(total("limits", "cpu")),
        "limits.memory": format_memory(total("limits", "memory")),
        "pods": str(sum(w.max_pods for w in workloads)),
    }
    return ResourceQuota(
        metadata=object_meta(plan, "deerflow-quota"),
        spec=ResourceQuotaSpec(hard=hard),
    )
