"""
The two autoscalers a Deployment may have (one at a time): a plain
HorizontalPodAutoscaler (``autoscaling/v2``) or a KEDA ScaledObject (``keda.sh/v1alpha1``).

KEDA creates and owns an HPA of its own for every ScaledObject, so a ScaledObject and a
plain HPA on the same Deployment fight over its replica count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._meta import K8sObject, Manifest

__all__ = [
    "AdvancedConfig",
    "CrossVersionObjectReference",
    "Fallback",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HorizontalPodAutoscaler",
    "HorizontalPodAutoscalerBehavior",
    "HorizontalPodAutoscalerConfig",
    "HorizontalPodAutoscalerSpec",
    "MetricSpec",
    "MetricTarget",
    "ResourceMetricSource",
    "ScaleTargetRef",
    "ScaledObject",
    "ScaledObjectSpec",
    "ScaledObjectTrigger",
]


@dataclass(frozen=True, slots=True)
class CrossVersionObjectReference(K8sObject):
    """
    The workload an HPA scales.
    """

    kind: str
    name: str
    api_version: str | None = None


@dataclass(frozen=True, slots=True)
class MetricTarget(K8sObject):
    """
    The target value of a metric, e.g. 70% average CPU utilisation.
    """

    type: str
    value: str | None = None
    average_value: str | None = None
    average_utilization: int | None = None


@dataclass(frozen=True, slots=True)
class ResourceMetricSource(K8sObject):
    """
    A CPU or memory metric of the scaled pods.
    """

    name: str
    target: MetricTarget


@dataclass(frozen=True, slots=True)
class MetricSpec(K8sObject):
    """
    One metric an HPA scales on (only ``Resource`` metrics are modelled here).
    """

    type: str
    resource: ResourceMetricSource | None = None


@dataclass(frozen=True, slots=True)
class HPAScalingPolicy(K8sObject):
    """
    At most ``value`` pods (or percent) of change per ``period_seconds``.
    """

    type: str
    value: int
    period_seconds: int


@dataclass(frozen=True, slots=True)
class HPAScalingRules(K8sObject):
    """
    The pace of scaling in one direction.
    """

    stabilization_window_seconds: int | None = None
    select_policy: str | None = None
    policies: tuple[HPAScalingPolicy, ...] | None = None


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscalerBehavior(K8sObject):
    """
    Separate pacing for scaling up and down.
    """

    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscalerSpec(K8sObject):
    """
    What an HPA scales, between which bounds, on which metrics, at what pace.
    """

    scale_target_ref: CrossVersionObjectReference
    min_replicas: int | None = None
    max_replicas: int = field(kw_only=True)
    metrics: tuple[MetricSpec, ...] | None = None
    behavior: HorizontalPodAutoscalerBehavior | None = None


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscaler(Manifest):
    """
    A HorizontalPodAutoscaler (``autoscaling/v2``).
    """

    api_version = "autoscaling/v2"
    kind = "HorizontalPodAutoscaler"

    spec: HorizontalPodAutoscalerSpec


@dataclass(frozen=True, slots=True)
class ScaleTargetRef(K8sObject):
    """
    The workload a ScaledObject scales (same namespace).
    """

    name: str
    api_version: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class ScaledObjectTrigger(K8sObject):
    """
    One KEDA trigger.

    Attributes:
        type: The scaler, e.g. ``cpu``, ``memory``, ``prometheus``.
        metadata: The scaler's parameters; every value is a string.
        metric_type: ``Utilization`` (cpu/memory), ``AverageValue`` or ``Value``.
        name: Optional name, used by scaling modifiers.
    """

    type: str
    metadata: Mapping[str, str]
    metric_type: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Fallback(K8sObject):
    """
    Replicas to hold while a scaler keeps failing (not allowed with only cpu/memory).
    """

    failure_threshold: int
    replicas: int
    behavior: str | None = None


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscalerConfig(K8sObject):
    """
    Settings KEDA copies into the HPA it creates.
    """

    name: str | None = None
    behavior: HorizontalPodAutoscalerBehavior | None = None


@dataclass(frozen=True, slots=True)
class AdvancedConfig(K8sObject):
    """
    KEDA's advanced section.
    """

    restore_to_original_replica_count: bool | None = None
    horizontal_pod_autoscaler_config: HorizontalPodAutoscalerConfig | None = None


@dataclass(frozen=True, slots=True)
class ScaledObjectSpec(K8sObject):
    """
    What KEDA scales, between which bounds, on which triggers.
    """

    scale_target_ref: ScaleTargetRef
    polling_interval: int | None = None
    cooldown_period: int | None = None
    min_replica_count: int | None = None
    max_replica_count: int | None = None
    fallback: Fallback | None = None
    advanced: AdvancedConfig | None = None
    triggers: tuple[ScaledObjectTrigger, ...] = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ScaledObject(Manifest):
    """
    A KEDA ScaledObject (``keda.sh/v1alpha1``).
    """

    api_version = "keda.sh/v1alpha1"
    kind = "ScaledObject"

    spec: ScaledObjectSpec
