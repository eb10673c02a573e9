"""
The autoscaler of one track: a KEDA ScaledObject (the default) or a plain HPA, with the
seed's bounds, targets and pacing. A Deployment gets exactly one of them.
"""

from __future__ import annotations

from ._autoscaling import (
    AdvancedConfig,
    CrossVersionObjectReference,
    Fallback,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior,
    HorizontalPodAutoscalerConfig,
    HorizontalPodAutoscalerSpec,
    HPAScalingPolicy,
    HPAScalingRules,
    MetricSpec,
    MetricTarget,
    ResourceMetricSource,
    ScaledObject,
    ScaledObjectSpec,
    ScaledObjectTrigger,
    ScaleTargetRef,
)
from ._meta import ObjectMeta
from ._plan import Plan, Track, object_meta

__all__ = ["PROMETHEUS", "QUEUE_METRIC", "hpa", "scaled_object"]

PROMETHEUS = "http://prometheus.monitoring:9090"
QUEUE_METRIC = "deerflow_requests_pending"
"""The app's gauge of requests waiting for a slot, which the queue trigger sums."""


def _meta(plan: Plan, track: Track) -> ObjectMeta:
    return object_meta(plan, track.name, app="deerflow", track=track.label)


def scaled_object(plan: Plan, track: Track) -> ScaledObject:
    """
    The track's KEDA ScaledObject: CPU 70%, memory 75% and the queue depth per pod.
    """
    # A gauge is summed, not rate()d; one track's pods only.
    query = (
        f'sum({QUEUE_METRIC}{{namespace="{plan.namespace}",pod=~"{track.name}-.*"}})'
    )
    low, high = plan.values.replicas.min, plan.values.replicas.max
    return ScaledObject(
        metadata=_meta(plan, track),
        spec=ScaledObjectSpec(
            scale_target_ref=ScaleTargetRef(
                name=track.name, api_version="apps/v1", kind="Deployment"
            ),
            polling_interval=10,
            cooldown_period=300,
            min_replica_count=low,
            max_replica_count=high,
            fallback=Fallback(
                failure_threshold=3,
                replicas=min(max(low, 3), high),
                behavior="currentReplicasIfHigher",
            ),
            advanced=AdvancedConfig(
                restore_to_original_replica_count=False,
                horizontal_pod_autoscaler_config=HorizontalPodAutoscalerConfig(
                    behavior=HorizontalPodAutoscalerBehavior(
                        scale_up=HPAScalingRules(
                            stabilization_window_seconds=0,
                            select_policy="Max",
                            policies=(HPAScalingPolicy("Percent", 100, 15),),
                        ),
                        scale_down=HPAScalingRules(
                            stabilization_window_seconds=300,
                            policies=(HPAScalingPolicy("Percent", 10, 60),),
                        ),
                    )
                ),
            ),
            triggers=(
                ScaledObjectTrigger("cpu", {"value": "70"}, metric_type="Utilization"),
                ScaledObjectTrigger(
                    "memory", {"value": "75"}, metric_type="Utilization"
                ),
                ScaledObjectTrigger(
                    "prometheus",
                    {"serverAddress": PROMETHEUS, "query": query, "threshold": "100"},
                    metric_type="AverageValue",
                    name="queue-depth",
                ),
            ),
        ),
    )


def hpa(plan: Plan, track: Track) -> HorizontalPodAutoscaler:
    """
    The track's plain HPA (``autoscaling/v2``): CPU 70% and memory 80%.
    """

    def utilization(resource: str, percent: int) -> MetricSpec:
        target = MetricTarget("Utilization", average_utilization=percent)
        return MetricSpec("Resource", resource=ResourceMetricSource(resource, target))

    return HorizontalPodAutoscaler(
        metadata=_meta(plan, track),
        spec=HorizontalPodAutoscalerSpec(
            scale_target_ref=CrossVersionObjectReference(
                "Deployment", track.name, api_version="apps/v1"
            ),
            min_replicas=plan.values.replicas.min,
            max_replicas=plan.values.replicas.max,
            metrics=(utilization("cpu", 70), utilization("memory", 80)),
            behavior=HorizontalPodAutoscalerBehavior(
                scale_up=HPAScalingRules(
                    stabilization_window_seconds=30,
                    policies=(HPAScalingPolicy("Pods", 4, 60),),
                ),
                scale_down=HPAScalingRules(
                    stabilization_window_seconds=300,
                    policies=(HPAScalingPolicy("Pods", 2, 300),),
                ),
            ),
        ),
    )
