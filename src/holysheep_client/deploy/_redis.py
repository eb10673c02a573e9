"""
The shared-state Redis of the reference stack: where it comes from (none, an embedded
Deployment, or an external server) and the client config that points at it.

The embedded Redis is a cache, not a database: one replica, no persistence, bounded
memory. Losing it costs nothing but a moment of local-only breakers and rate limits
(the client fails open) and, with ``migration: client``, a migration that holds its
phase until the pods have written their state back, so it needs no
PodDisruptionBudget or volume.
"""

from __future__ import annotations

import json
from typing import Literal

from .. import ClientConfig, SharedStateConfig
from ..errors import ConfigError
from ._app import APP_LABEL, RUN_AS
from ._manifests import (
    NetworkPolicy,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    Service,
    ServicePort,
    ServiceSpec,
)
from ._meta import LabelSelector, ObjectMeta
from ._plan import (
    Component,
    Plan,
    Workload,
    object_meta,
    pod_sizing,
    sidecar_annotations,
)
from ._pods import (
    Capabilities,
    Container,
    ContainerPort,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    EmptyDirVolumeSource,
    ExecAction,
    PodSecurityContext,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    Volume,
    VolumeMount,
)
from ._values import REDIS_IMAGE

__all__ = [
    "REDIS_IMAGE",
    "REDIS_NAME",
    "REDIS_PORT",
    "RedisMode",
    "redis_component",
    "redis_url",
    "with_shared_state",
]

RedisMode = Literal["none", "embedded", "external"]

REDIS_NAME = "deerflow-redis"
REDIS_PORT = 6379
REQUESTS = {"cpu": "100m", "memory": "128Mi"}
LIMITS = {"cpu": "500m", "memory": "256Mi"}


def redis_url(namespace: str) -> str:
    """
    The embedded Redis's URL from the app's pods: ``redis://deerflow-redis.<ns>.svc:6379/0``.
    """
    return f"redis://{REDIS_NAME}.{namespace}.svc:{REDIS_PORT}/0"


def with_shared_state(
    config: ClientConfig,
    mode: RedisMode,
    *,
    namespace: str,
    url: str | None = None,
) -> ClientConfig:
    """
    ``config`` with ``shared_state.url`` pointing at the chosen Redis.

    ``"none"`` keeps the config as it is; the others keep its ``prefix`` and ``timeout``
    when it has a ``shared_state`` section already.

    Raises:
        ConfigError: An unknown mode, ``url`` missing for (or given without)
            ``"external"``, or a URL that is not ``redis://``.
    """
    if mode not in ("none", "embedded", "external"):
        raise ConfigError("redis", "expected 'none', 'embedded' or 'external'")
    if (mode == "external") != (url is not None):
        raise ConfigError(
            "redis_url", "is required with, and only with, redis='external'"
        )
    if mode == "none":
        return config
    target = redis_url(namespace) if url is None else url
    old = config.shared_state
    try:
        shared = SharedStateConfig(
            url=target,
            prefix=old.prefix if old else "holysheep:",
            timeout=old.timeout if old else 0.05,
        )
    except ValueError as exc:
        raise ConfigError(
            "redis_url", "expected a redis://, rediss:// or unix:// URL"
        ) from exc
    return config.model_copy(update={"shared_state": shared})


def redis_component(plan: Plan) -> Component:
    """
    An embedded Redis: Deployment (one replica), Service and a NetworkPolicy that admits
    only the app's pods.

    Returns:
        The objects and the one workload the quota must hold.
    """
    labels = {"app": REDIS_NAME}

    def meta(name: str) -> ObjectMeta:
        return object_meta(plan, name, **labels)

    ping = Probe(
        exec_=ExecAction(("redis-cli", "ping")),
        initial_delay_seconds=5,
        period_seconds=10,
        timeout_seconds=2,
        failure_threshold=3,
    )
    container = Container(
        name="redis",
        image=plan.values.redis.image,
        image_pull_policy="IfNotPresent",
        # State that fails open needs no persistence; bounded memory, LRU eviction.
        args=(
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory",
            "96mb",
            "--maxmemory-policy",
            "allkeys-lru",
        ),
        ports=(ContainerPort(REDIS_PORT, name="redis", protocol="TCP"),),
        volume_mounts=(VolumeMount("data", "/data"),),
        resources=ResourceRequirements(limits=LIMITS, requests=REQUESTS),
        liveness_probe=ping,
        readiness_probe=ping,
        security_context=SecurityContext(
            run_as_non_root=True,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            privileged=False,
            capabilities=Capabilities(drop=("ALL",)),
        ),
    )
    annotations = {
        **sidecar_annotations(),
        "proxy.istio.io/config": json.dumps({"terminationDrainDuration": "5s"}),
    }
    deployment = Deployment(
        metadata=meta(REDIS_NAME),
        spec=DeploymentSpec(
            selector=LabelSelector(match_labels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(
                    labels={**plan.values.labels, **labels}, annotations=annotations
                ),
                spec=PodSpec(
                    containers=(container,),
                    volumes=(
                        Volume(
                            "data", empty_dir=EmptyDirVolumeSource(size_limit="128Mi")
                        ),
                    ),
                    automount_service_account_token=False,
                    security_context=PodSecurityContext(
                        run_as_user=RUN_AS,
                        run_as_non_root=True,
                        run_as_group=RUN_AS,
                        fs_group=RUN_AS,
                        seccomp_profile=SeccompProfile("RuntimeDefault"),
                    ),
                ),
            ),
            replicas=1,
            # Never two at once: two Redis would split the shared state.
            strategy=DeploymentStrategy(type="Recreate"),
            revision_history_limit=5,
        ),
    )
    service = Service(
        metadata=meta(REDIS_NAME),
        spec=ServiceSpec(
            selector=labels,
            ports=(
                ServicePort(
                    REDIS_PORT, target_port="redis", protocol="TCP", name="tcp-redis"
                ),
            ),
            type="ClusterIP",
        ),
    )
    policy = NetworkPolicy(
        metadata=meta(REDIS_NAME),
        spec=NetworkPolicySpec(
            pod_selector=LabelSelector(match_labels=labels),
            ingress=(
                NetworkPolicyIngressRule(
                    from_=(
                        NetworkPolicyPeer(
                            pod_selector=LabelSelector(match_labels={"app": APP_LABEL})
                        ),
                    ),
                    ports=(NetworkPolicyPort("TCP", REDIS_PORT),),
                ),
            ),
            policy_types=("Ingress",),
        ),
    )
    requests, limits = pod_sizing(REQUESTS, LIMITS, annotations)
    # Recreate: the old pod is gone before the new one starts, so one pod at most.
    workload = Workload(name=REDIS_NAME, max_pods=1, requests=requests, limits=limits)
    return Component(objects=(deployment, service, policy), workloads=(workload,))
