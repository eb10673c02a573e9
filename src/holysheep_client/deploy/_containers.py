"""
Containers: ports, environment, resources, probes, lifecycle hooks and security
settings (``core/v1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._meta import K8sObject

__all__ = [
    "Capabilities",
    "ConfigMapKeySelector",
    "Container",
    "ContainerPort",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "HTTPGetAction",
    "Lifecycle",
    "LifecycleHandler",
    "Probe",
    "ResourceRequirements",
    "SeccompProfile",
    "SecretKeySelector",
    "SecurityContext",
    "SleepAction",
    "VolumeMount",
]


@dataclass(frozen=True, slots=True)
class ContainerPort(K8sObject):
    """
    A port the container listens on; ``name`` lets probes and Services refer to it.
    """

    container_port: int
    name: str | None = None
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class SecretKeySelector(K8sObject):
    """
    One key of a Secret in the pod's namespace.
    """

    key: str
    name: str
    optional: bool | None = None


@dataclass(frozen=True, slots=True)
class ConfigMapKeySelector(K8sObject):
    """
    One key of a ConfigMap in the pod's namespace.
    """

    key: str
    name: str
    optional: bool | None = None


@dataclass(frozen=True, slots=True)
class EnvVarSource(K8sObject):
    """
    Where an environment variable's value comes from.
    """

    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None


@dataclass(frozen=True, slots=True)
class EnvVar(K8sObject):
    """
    An environment variable: a literal ``value`` or a ``value_from`` reference.
    """

    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


@dataclass(frozen=True, slots=True)
class ResourceRequirements(K8sObject):
    """
    Resource ``requests`` (scheduling, quota) and ``limits`` (enforced caps).
    """

    limits: Mapping[str, str] | None = None
    requests: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class VolumeMount(K8sObject):
    """
    Where a pod volume appears inside the container.
    """

    name: str
    mount_path: str
    read_only: bool | None = None
    sub_path: str | None = None


@dataclass(frozen=True, slots=True)
class ExecAction(K8sObject):
    """
    A command run inside the container.
    """

    command: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HTTPGetAction(K8sObject):
    """
    An HTTP GET against the container.
    """

    path: str
    port: int | str
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class SleepAction(K8sObject):
    """
    A pause, without needing a shell in the image (Kubernetes 1.30+).
    """

    seconds: int


@dataclass(frozen=True, slots=True)
class LifecycleHandler(K8sObject):
    """
    What a lifecycle hook does: run a command, call HTTP, or sleep.
    """

    exec_: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    sleep: SleepAction | None = None


@dataclass(frozen=True, slots=True)
class Lifecycle(K8sObject):
    """
    Hooks around the container's start and stop.
    """

    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


@dataclass(frozen=True, slots=True)
class Probe(K8sObject):
    """
    A liveness, readiness or startup check.
    """

    exec_: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    timeout_seconds: int | None = None
    failure_threshold: int | None = None
    success_threshold: int | None = None


@dataclass(frozen=True, slots=True)
class Capabilities(K8sObject):
    """
    Linux capabilities added to or dropped from the container.
    """

    add: tuple[str, ...] | None = None
    drop: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SeccompProfile(K8sObject):
    """
    The seccomp profile, e.g. ``RuntimeDefault``.
    """

    type: str
    localhost_profile: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityContext(K8sObject):
    """
    Container-level security settings.
    """

    run_as_user: int | None = None
    run_as_non_root: bool | None = None
    run_as_group: int | None = None
    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None
    privileged: bool | None = None
    capabilities: Capabilities | None = None
    seccomp_profile: SeccompProfile | None = None


@dataclass(frozen=True, slots=True)
class Container(K8sObject):
    """
    One container of a pod; fields follow the API reference's order.
    """

    name: str
    image: str | None = None
    image_pull_policy: str | None = None
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    ports: tuple[ContainerPort, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    volume_mounts: tuple[VolumeMount, ...] | None = None
    resources: ResourceRequirements | None = None
    lifecycle: Lifecycle | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security_context: SecurityContext | None = None
