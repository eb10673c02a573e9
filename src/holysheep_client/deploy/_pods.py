"""
Pods and the Deployment that runs them (``apps/v1``): volumes, placement, security and
rollout strategy. The container types live in ``_containers`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._containers import (
    Capabilities,
    ConfigMapKeySelector,
    Container,
    ContainerPort,
    EnvVar,
    EnvVarSource,
    ExecAction,
    HTTPGetAction,
    Lifecycle,
    LifecycleHandler,
    Probe,
    ResourceRequirements,
    SeccompProfile,
    SecretKeySelector,
    SecurityContext,
    SleepAction,
    VolumeMount,
)
from ._meta import K8sObject, LabelSelector, Manifest, ObjectMeta

__all__ = [
    "Capabilities",
    "ConfigMapKeySelector",
    "ConfigMapVolumeSource",
    "Container",
    "ContainerPort",
    "Deployment",
    "DeploymentSpec",
    "DeploymentStrategy",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "HTTPGetAction",
    "KeyToPath",
    "Lifecycle",
    "LifecycleHandler",
    "PodSecurityContext",
    "PodSpec",
    "PodTemplateSpec",
    "Probe",
    "ResourceRequirements",
    "RollingUpdateDeployment",
    "SeccompProfile",
    "SecretKeySelector",
    "SecurityContext",
    "SleepAction",
    "Toleration",
    "TopologySpreadConstraint",
    "Volume",
    "VolumeMount",
]


@dataclass(frozen=True, slots=True)
class PodSecurityContext(K8sObject):
    """
    Pod-level security settings, inherited by every container.
    """

    run_as_user: int | None = None
    run_as_non_root: bool | None = None
    run_as_group: int | None = None
    fs_group: int | None = None
    seccomp_profile: SeccompProfile | None = None


@dataclass(frozen=True, slots=True)
class KeyToPath(K8sObject):
    """
    Projects one key of a ConfigMap or Secret to a file path.
    """

    key: str
    path: str


@dataclass(frozen=True, slots=True)
class ConfigMapVolumeSource(K8sObject):
    """
    A ConfigMap mounted as files.
    """

    name: str
    items: tuple[KeyToPath, ...] | None = None
    default_mode: int | None = None
    optional: bool | None = None


@dataclass(frozen=True, slots=True)
class EmptyDirVolumeSource(K8sObject):
    """
    A scratch directory that lives as long as the pod.
    """

    medium: str | None = None
    size_limit: str | None = None


@dataclass(frozen=True, slots=True)
class Volume(K8sObject):
    """
    A pod volume; set exactly one source.
    """

    name: str
    config_map: ConfigMapVolumeSource | None = None
    empty_dir: EmptyDirVolumeSource | None = None


@dataclass(frozen=True, slots=True)
class Toleration(K8sObject):
    """
    Lets the pod schedule onto nodes with a matching taint.
    """

    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class TopologySpreadConstraint(K8sObject):
    """
    Spreads matching pods across a topology domain (zones, nodes).
    """

    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    label_selector: LabelSelector | None = None
    match_label_keys: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PodSpec(K8sObject):
    """
    What runs in a pod and where it may be scheduled.
    """

    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...] | None = None
    node_selector: Mapping[str, str] | None = None
    tolerations: tuple[Toleration, ...] | None = None
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] | None = None
    termination_grace_period_seconds: int | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    security_context: PodSecurityContext | None = None


@dataclass(frozen=True, slots=True)
class PodTemplateSpec(K8sObject):
    """
    The pods a workload creates: their metadata and spec.
    """

    metadata: ObjectMeta
    spec: PodSpec


@dataclass(frozen=True, slots=True)
class RollingUpdateDeployment(K8sObject):
    """
    How far a rolling update may go above (surge) and below (unavailable) the count.
    """

    max_surge: int | str | None = None
    max_unavailable: int | str | None = None


@dataclass(frozen=True, slots=True)
class DeploymentStrategy(K8sObject):
    """
    ``RollingUpdate`` (default) or ``Recreate``.
    """

    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


@dataclass(frozen=True, slots=True)
class DeploymentSpec(K8sObject):
    """
    The desired state of a Deployment.

    Leave ``replicas`` unset when an autoscaler owns the count: a value here is
    written back on every apply and fights the autoscaler.
    """

    selector: LabelSelector
    template: PodTemplateSpec
    replicas: int | None = None
    min_ready_seconds: int | None = None
    strategy: DeploymentStrategy | None = None
    revision_history_limit: int | None = None
    progress_deadline_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Deployment(Manifest):
    """
    A Deployment (``apps/v1``): a replicated, rolling-updated set of pods.
    """

    api_version = "apps/v1"
    kind = "Deployment"

    spec: DeploymentSpec
