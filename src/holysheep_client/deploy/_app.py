"""
One track of the app: its ConfigMap, Deployment, Service, PodDisruptionBudget and its
one autoscaler.
"""

from __future__ import annotations

import hashlib
import json

from ..errors import ConfigError
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
    PRESTOP_SLEEP,
    Component,
    Plan,
    Track,
    Workload,
    object_meta,
    pod_sizing,
    secret_key_for,
    sidecar_annotations,
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
from ._rollout import rollout_pods
from ._scalers import hpa, scaled_object
from ._values import ProbeConfig

__all__ = [
    "APP_LABEL",
    "CONFIG_DIR",
    "HTTP_PORT",
    "LIVENESS",
    "METRICS_PORT",
    "READINESS",
    "RUN_AS",
    "app_track",
    "config_checksum",
    "scrape_annotations",
]

APP_LABEL = "deerflow"
HTTP_PORT = 8000
METRICS_PORT = 9090
MAX_SURGE = "25%"
CONFIG_DIR = "/etc/deerflow"
RUN_AS = 10001
LIVENESS = ProbeConfig(
    path="/health",
    port="http",
    initial_delay_seconds=30,
    period_seconds=10,
    timeout_seconds=5,
    failure_threshold=3,
)
"""The seed's liveness probe; ``probes.liveness`` in the values overrides its fields."""
READINESS = ProbeConfig(
    path="/ready",
    port="http",
    initial_delay_seconds=10,
    period_seconds=5,
    timeout_seconds=3,
    failure_threshold=2,
)
"""The seed's readiness probe; ``probes.readiness`` overrides its fields."""
_STARTUP = ProbeConfig(port="http", period_seconds=5, failure_threshold=24)
_PORT_NAMES = ("http", "metrics")


def config_checksum(data: dict[str, str]) -> str:
    """
    The sha256 of a ConfigMap's data; in the pod template, a change rolls the pods.
    """
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def scrape_annotations() -> dict[str, str]:
    """
    The ``prometheus.io/*`` pod annotations for the app's metrics port; with Istio's
    metrics merging (on by default) the sidecar serves them on 15020 merged with its own.
    """
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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


def _probe(field: str, base: ProbeConfig, given: ProbeConfig | None) -> Probe:
    p = base.model_copy(update=given.model_dump(exclude_none=True) if given else {})
    if p.path is None:
        raise ConfigError(f"{field}.path", "is required")
    port = p.port if p.port is not None else "http"
    if isinstance(port, str) and port not in _PORT_NAMES:
        raise ConfigError(
            f"{field}.port",
            f"no container port is named {port!r} (the app's are http and metrics)",
        )
    return Probe(
        http_get=HTTPGetAction(p.path, port),
        initial_delay_seconds=p.initial_delay_seconds,
        period_seconds=p.period_seconds,
        timeout_seconds=p.timeout_seconds,
        failure_threshold=p.failure_threshold,
        success_threshold=p.success_threshold,
    )


def _container(plan: Plan, track: Track) -> Container:
    v = plan.values
    probes = v.probes
    startup = None
    if probes.startup is not None:
        base = _STARTUP.model_copy(update={"path": probes.liveness.path or "/health"})
        startup = _probe("probes.startup", base, probes.startup)
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
        resources=ResourceRequirements(
            limits=v.resources.effective_limits,
            requests=v.resources.effective_requests,
        ),
        lifecycle=Lifecycle(
            pre_stop=LifecycleHandler(
                exec_=ExecAction(("/bin/sh", "-c", f"sleep {PRESTOP_SLEEP}"))
            )
        ),
        liveness_probe=_probe("probes.liveness", LIVENESS, probes.liveness),
        readiness_probe=_probe("probes.readiness", READINESS, probes.readiness),
        startup_probe=startup,
        security_context=SecurityContext(
            run_as_non_root=True,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            privileged=False,
            capabilities=Capabilities(drop=("ALL",)),
        ),
    )


def _pod_annotations(plan: Plan, checksum: str) -> dict[str, str]:
    annotations = sidecar_annotations()
    if plan.values.scrape == "annotations":
        annotations.update(scrape_annotations())
    annotations.update(plan.values.pod_annotations)
    # The sidecar must keep forwarding the app's calls to the providers while the app
    # drains; Istio's default drain is only 5 s.
    annotations["proxy.istio.io/config"] = json.dumps(
        {"terminationDrainDuration": f"{plan.drain_seconds}s"}
    )
    return {"checksum/config": checksum, **annotations}


def _deployment(plan: Plan, track: Track, checksum: str) -> Deployment:
    v = plan.values
    selector = {"app": APP_LABEL, "track": track.label}
    pod_labels = {**v.labels, **selector}
    if plan.version:
        pod_labels["version"] = plan.version
    spread = LabelSelector(match_labels=selector)
    pod = PodSpec(
        containers=(_container(plan, track),),
        volumes=(
            Volume("config", config_map=ConfigMapVolumeSource(f"{track.name}-config")),
            Volume("tmp", empty_dir=EmptyDirVolumeSource(size_limit="1Gi")),
        ),
        node_selector=dict(v.node_selector) or None,
        tolerations=tuple(
            Toleration(**t.model_dump(exclude_none=True)) for t in v.tolerations
        )
        or None,
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
        termination_grace_period_seconds=plan.grace_seconds,
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
        metadata=object_meta(plan, track.name, app=APP_LABEL, track=track.label),
        spec=DeploymentSpec(
            selector=LabelSelector(match_labels=selector),
            template=PodTemplateSpec(
                metadata=ObjectMeta(
                    labels=pod_labels, annotations=_pod_annotations(plan, checksum)
                ),
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


def _workload(plan: Plan, deployment: Deployment) -> Workload:
    template = deployment.spec.template
    container = template.spec.containers[0]
    resources = container.resources or ResourceRequirements()
    readiness = container.readiness_probe
    ready = float(readiness.initial_delay_seconds or 0) if readiness else 0.0
    replicas = plan.values.replicas.max
    surge, terminating = rollout_pods(
        replicas,
        max_surge=MAX_SURGE,
        max_unavailable=0,
        grace_seconds=plan.grace_seconds,
        ready_seconds=ready,
    )
    requests, limits = pod_sizing(
        resources.requests or {},
        resources.limits or {},
        template.metadata.annotations or {},
    )
    return Workload(
        name=deployment.name,
        max_pods=replicas + surge + terminating,
        requests=requests,
        limits=limits,
    )


def app_track(plan: Plan, track: Track) -> Component:
    """
    The objects of one track and the workload sizing the quota needs.

    Args:
        plan: The shared settings.
        track: Which provider this track's pods use first, and its name.

    Returns:
        ConfigMap, Deployment, Service, PodDisruptionBudget and one autoscaler.

    Raises:
        ConfigError: A probe names a port the container does not have.
    """
    config = (
        plan.config if track.migrating else track_config(plan.config, track.provider)
    )
    config_text = config.to_yaml()
    data = {"config.yaml": config_text}
    labels = {"app": APP_LABEL, "track": track.label}
    configmap = ConfigMap(
        metadata=object_meta(plan, f"{track.name}-config", **labels), data=data
    )
    service = Service(
        metadata=object_meta(plan, track.name, **labels),
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
    # One pod at a time even at the minimum scale: a drain never waits on this budget.
    pdb = PodDisruptionBudget(
        metadata=object_meta(plan, track.name, **labels),
        spec=PodDisruptionBudgetSpec(
            selector=LabelSelector(match_labels=labels),
            max_unavailable=1,
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )
    scaler: Manifest = (
        scaled_object(plan, track) if plan.autoscaler == "keda" else hpa(plan, track)
    )
    deployment = _deployment(plan, track, config_checksum(data))
    return Component(
        objects=(configmap, deployment, service, pdb, scaler),
        workloads=(_workload(plan, deployment),),
    )
