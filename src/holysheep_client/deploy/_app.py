"""
One track of the app: its ConfigMap, Deployment, Service, PodDisruptionBudget and its
one autoscaler.
"""

from __future__ import annotations

import hashlib
import json
import math
from fractions import Fraction

from ._manifests import (
    ConfigMap,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    Service,
    ServicePort,
    ServiceSpec,
)
from ._meta import LabelSelector, Manifest, ObjectMeta
from ._plan import (
    APP,
    Component,
    Plan,
    Track,
    Workload,
    secret_key_for,
    track_config,
)
from ._pods import (
    Capabilities,
    ConfigMapVolumeSource,
    Container,
    ContainerPort,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    EmptyDirVolumeSource,
    EnvVar,
    EnvVarSource,
    ExecAction,
    HTTPGetAction,
    Lifecycle,
    LifecycleHandler,
    PodSecurityContext,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    RollingUpdateDeployment,
    SeccompProfile,
    SecretKeySelector,
    SecurityContext,
    Toleration,
    TopologySpreadConstraint,
    Volume,
    VolumeMount,
)
from ._scalers import MAX_REPLICAS, hpa, scaled_object
from ._units import parse_quantity, percent_of

__all__ = [
    "APP_LABEL",
    "CONFIG_DIR",
    "HTTP_PORT",
    "METRICS_PORT",
    "SIDECAR_LIMITS",
    "SIDECAR_REQUESTS",
    "app_track",
    "config_checksum",
]

APP_LABEL = "deerflow"
HTTP_PORT = 8000
METRICS_PORT = 9090
MAX_SURGE = "25%"
PRESTOP_SLEEP = 10
REQUESTS = {"cpu": "2", "memory": "4Gi"}
LIMITS = {"cpu": "4", "memory": "8Gi"}
# Set on the pods through Istio's annotations, so the quota can count the sidecar.
SIDECAR_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
SIDECAR_LIMITS = {"cpu": "1", "memory": "512Mi"}
CONFIG_DIR = "/etc/deerflow"
RUN_AS = 10001


def config_checksum(data: dict[str, str]) -> str:
    """
    The sha256 of a ConfigMap's data; in the pod template, a change rolls the pods.
    """
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _meta(plan: Plan, name: str, **labels: str) -> ObjectMeta:
    return ObjectMeta(
        name=name, namespace=plan.namespace, labels={**labels, **(plan.labels or {})}
    )


def _env(plan: Plan, track: Track) -> tuple[EnvVar, ...]:
    cfg = plan.config
    provider = cfg.provider(track.provider)
    env = [
        EnvVar("HOLYSHEEP_CONFIG", f"{CONFIG_DIR}/config.yaml"),
        EnvVar("DEERFLOW_BASE_URL", provider.base_url),
    ]
    if cfg.max_concurrent_requests is not None:
        env.append(EnvVar("MAX_CONCURRENT_REQUESTS", str(cfg.max_concurrent_requests)))
    if cfg.timeout.per_attempt is not None:
        # from_env reads REQUEST_TIMEOUT as one attempt's timeout, as the seed meant.
        env.append(EnvVar("REQUEST_TIMEOUT", _number(cfg.timeout.per_attempt)))
    for name in plan.key_envs:
        ref = SecretKeySelector(key=secret_key_for(name), name=plan.secret_name)
        env.append(EnvVar(name, value_from=EnvVarSource(secret_key_ref=ref)))
    return tuple(env)


def _container(plan: Plan, track: Track) -> Container:
    return Container(
        name=APP,
        image=plan.image,
        image_pull_policy="Always",
        ports=(
            ContainerPort(HTTP_PORT, name="http", protocol="TCP"),
            ContainerPort(METRICS_PORT, name="metrics", protocol="TCP"),
        ),
        env=_env(plan, track),
        volume_mounts=(
            VolumeMount("config", CONFIG_DIR, read_only=True),
            VolumeMount("tmp", "/tmp"),
        ),
        resources=ResourceRequirements(limits=LIMITS, requests=REQUESTS),
        lifecycle=Lifecycle(
            pre_stop=LifecycleHandler(
                exec_=ExecAction(("/bin/sh", "-c", f"sleep {PRESTOP_SLEEP}"))
            )
        ),
        liveness_probe=Probe(
            http_get=HTTPGetAction("/health", "http"),
            initial_delay_seconds=30,
            period_seconds=10,
            timeout_seconds=5,
            failure_threshold=3,
        ),
        readiness_probe=Probe(
            http_get=HTTPGetAction("/ready", "http"),
            initial_delay_seconds=10,
            period_seconds=5,
            timeout_seconds=3,
            failure_threshold=2,
        ),
        security_context=SecurityContext(
            run_as_non_root=True,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            privileged=False,
            capabilities=Capabilities(drop=("ALL",)),
        ),
    )


def _deployment(plan: Plan, track: Track, checksum: str) -> Deployment:
    selector = {"app": APP_LABEL, "track": track.label}
    pod_labels = dict(selector)
    if plan.version:
        pod_labels["version"] = plan.version
    grace = math.ceil(PRESTOP_SLEEP + plan.request_timeout + 20)
    drain = math.ceil(PRESTOP_SLEEP + plan.request_timeout + 5)
    annotations = {
        "checksum/config": checksum,
        "sidecar.istio.io/proxyCPU": SIDECAR_REQUESTS["cpu"],
        "sidecar.istio.io/proxyCPULimit": SIDECAR_LIMITS["cpu"],
        "sidecar.istio.io/proxyMemory": SIDECAR_REQUESTS["memory"],
        "sidecar.istio.io/proxyMemoryLimit": SIDECAR_LIMITS["memory"],
        # The sidecar must keep forwarding the app's calls to the providers while
        # the app drains; Istio's default drain is only 5 s.
        "proxy.istio.io/config": json.dumps({"terminationDrainDuration": f"{drain}s"}),
    }
    spread = LabelSelector(match_labels=selector)
    pod = PodSpec(
        containers=(_container(plan, track),),
        volumes=(
            Volume("config", config_map=ConfigMapVolumeSource(f"{track.name}-config")),
            Volume("tmp", empty_dir=EmptyDirVolumeSource(size_limit="1Gi")),
        ),
        node_selector={"workload-type": "ai-inference"},
        tolerations=(
            Toleration(key="ai-pool", operator="Exists", effect="NoSchedule"),
        ),
        topology_spread_constraints=(
            TopologySpreadConstraint(
                max_skew=1,
                topology_key="topology.kubernetes.io/zone",
                when_unsatisfiable="DoNotSchedule",
                label_selector=spread,
                match_label_keys=("pod-template-hash",),
            ),
            TopologySpreadConstraint(
                max_skew=1,
                topology_key="kubernetes.io/hostname",
                when_unsatisfiable="ScheduleAnyway",
                label_selector=spread,
                match_label_keys=("pod-template-hash",),
            ),
        ),
        termination_grace_period_seconds=grace,
        service_account_name=APP,
        automount_service_account_token=False,
        security_context=PodSecurityContext(
            run_as_user=RUN_AS,
            run_as_non_root=True,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            seccomp_profile=SeccompProfile("RuntimeDefault"),
        ),
    )
    return Deployment(
        metadata=_meta(plan, track.name, app=APP_LABEL, track=track.label),
        spec=DeploymentSpec(
            selector=LabelSelector(match_labels=selector),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=pod_labels, annotations=annotations),
                spec=pod,
            ),
            strategy=DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=RollingUpdateDeployment(
                    max_surge=MAX_SURGE, max_unavailable=0
                ),
            ),
            revision_history_limit=5,
        ),
    )


def _per_pod(*parts: dict[str, str]) -> dict[str, Fraction]:
    return {
        k: sum((parse_quantity(p[k]) for p in parts), Fraction(0)) for k in parts[0]
    }


def app_track(plan: Plan, track: Track) -> Component:
    """
    The objects of one track and the workload sizing the quota needs.

    Args:
        plan: The shared settings.
        track: Which provider this track's pods use first, and its name.

    Returns:
        ConfigMap, Deployment, Service, PodDisruptionBudget and one autoscaler.
    """
    config_text = track_config(plan.config, track.provider).to_yaml()
    data = {"config.yaml": config_text}
    labels = {"app": APP_LABEL, "track": track.label}
    configmap = ConfigMap(
        metadata=_meta(plan, f"{track.name}-config", **labels), data=data
    )
    service = Service(
        metadata=_meta(plan, track.name, **labels),
        spec=ServiceSpec(
            selector=labels,
            ports=(
                ServicePort(HTTP_PORT, target_port="http", protocol="TCP", name="http"),
                ServicePort(
                    METRICS_PORT, target_port="metrics", protocol="TCP", name="metrics"
                ),
            ),
            type="ClusterIP",
        ),
    )
    pdb = PodDisruptionBudget(
        metadata=_meta(plan, track.name, **labels),
        spec=PodDisruptionBudgetSpec(
            selector=LabelSelector(match_labels=labels),
            max_unavailable=1,
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )
    scaler: Manifest = (
        scaled_object(plan, track) if plan.autoscaler == "keda" else hpa(plan, track)
    )
    workload = Workload(
        name=track.name,
        max_pods=MAX_REPLICAS + percent_of(MAX_SURGE, MAX_REPLICAS),
        requests=_per_pod(REQUESTS, SIDECAR_REQUESTS),
        limits=_per_pod(LIMITS, SIDECAR_LIMITS),
    )
    return Component(
        objects=(
            configmap,
            _deployment(plan, track, config_checksum(data)),
            service,
            pdb,
            scaler,
        ),
        workloads=(workload,),
    )
