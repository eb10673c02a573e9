"""
The settings every builder of the reference stack reads, derived once from a
`ClientConfig` and the render values, plus the per-workload sizing the quota is
computed from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from .. import ClientConfig, TimeoutConfig
from ..errors import ConfigError
from ._meta import Manifest, ObjectMeta
from ._rollout import sidecar_resources
from ._units import parse_quantity
from ._values import ValuesConfig

__all__ = [
    "APP",
    "PRESTOP_SLEEP",
    "SIDECAR_LIMITS",
    "SIDECAR_REQUESTS",
    "Autoscaler",
    "Component",
    "NoKeys",
    "Plan",
    "Track",
    "Workload",
    "call_deadline",
    "object_meta",
    "pod_sizing",
    "secret_key_for",
    "sidecar_annotations",
    "track_config",
    "with_deadline",
]

Autoscaler = Literal["keda", "hpa"]

APP = "deerflow-api"
"""The application's name: the Service the VirtualService routes for, and the prefix of
every track's objects."""
PRESTOP_SLEEP = 10
"""Seconds the app keeps serving after its pod is marked for deletion, while the
endpoints controller and the mesh stop sending it new requests."""


def secret_key_for(env_name: str) -> str:
    """
    The Secret key holding the value of ``env_name`` (``HOLYSHEEP_API_KEY`` ->
    ``holysheep-api-key``), the seed's naming.
    """
    return env_name.lower().replace("_", "-")


class NoKeys(Mapping[str, str]):
    """
    An environment in which every variable is set to a dummy.

    The config models resolve ``api_key_env`` when validated; rendering manifests needs
    no key, so configs are validated against this instead of the real environment. The
    dummy is never written anywhere: `ClientConfig.to_dict` leaves keys out.
    """

    def __getitem__(self, key: str) -> str:
        return "unused-by-deploy"

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def call_deadline(config: ClientConfig) -> float:
    """
    The longest one call of the client can take, in seconds.

    ``timeout.total`` when set; otherwise every attempt of the retry policy at
    ``timeout.per_attempt`` (30 s when unbounded) plus the backoff caps between them:
    3 attempts of 30 s with backoffs of 0.5 and 1 s make 91.5 s.

    Args:
        config: The client config.

    Returns:
        Seconds.

    .. versionadded:: 0.2.0
    """
    t, retry = config.timeout, config.retry
    if t.total is not None:
        return float(t.total)
    per_attempt = float(t.per_attempt or 30.0)
    backoff = 0.0
    for i in range(retry.max_attempts - 1):
        backoff += min(float(retry.initial_backoff) * 2**i, float(retry.max_backoff))
    return per_attempt * retry.max_attempts + backoff


def with_deadline(config: ClientConfig) -> ClientConfig:
    """
    ``config`` with ``timeout.total`` set to `call_deadline` when it has none, so the
    pods' calls end by the time the grace period is computed for.
    """
    if config.timeout.total is not None:
        return config
    timeout = TimeoutConfig.model_validate(
        {**config.timeout.model_dump(), "total": call_deadline(config)}
    )
    return config.model_copy(update={"timeout": timeout})


def track_config(config: ClientConfig, provider: str) -> ClientConfig:
    """
    The config one track's pods run: ``provider`` takes all primary traffic, every other
    provider stays a failover candidate (weight 0), and the migration clock is dropped
    because the mesh moves traffic between tracks instead.

    Raises:
        ConfigError: The config cannot be written out (a literal ``api_key``, or a
            shared-state URL carrying a password).
    """
    if config.shared_state is not None:
        from urllib.parse import urlsplit

        if urlsplit(config.shared_state.url.get_secret_value()).password:
            raise ConfigError(
                "shared_state.url",
                "carries a password, which must not go into a ConfigMap",
            )
    data = config.to_dict()
    for p in data["providers"]:
        p["weight"] = 100 if p["name"] == provider else 0
    data["migration"] = None
    return ClientConfig.model_validate(data, context={"environ": NoKeys()})


@dataclass(frozen=True, slots=True)
class Track:
    """
    One Deployment of the app whose pods use ``provider`` first.

    Attributes:
        provider: The provider's name in the client config.
        name: The track's objects' name, e.g. ``deerflow-api-holysheep``.
        label: The value of the pods' ``track`` label.
        weight: Its share of the VirtualService's traffic, in percent.
        migrating: Its pods run the config's whole migration (``migration: client``:
            phases, gate and shadow traffic, shared through Redis).
    """

    provider: str
    name: str
    label: str
    weight: int
    migrating: bool = False


@dataclass(frozen=True, slots=True)
class Workload:
    """
    The most pods one workload can have at once, and what each one requests.

    Attributes:
        name: The workload's name.
        max_pods: Maximum replicas, plus a rollout's surge and the old pods still
            terminating (the quota counts them until they are gone).
        requests: Per-pod requests (``cpu`` in cores, ``memory`` in bytes), sidecars
            included.
        limits: Per-pod limits, the same way.
    """

    name: str
    max_pods: int
    requests: Mapping[str, Fraction]
    limits: Mapping[str, Fraction]


@dataclass(frozen=True, slots=True)
class Component:
    """
    What one builder adds to the stack: its objects and the workloads among them.
    """

    objects: tuple[Manifest, ...]
    workloads: tuple[Workload, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """
    Everything the builders share.

    Attributes:
        config: The client config the pods run (each track gets its own variant).
        values: The render options.
        tracks: The Deployments the VirtualService splits traffic between.
        secret_name: The Secret the pods read API keys from.
        labels: Labels every object carries (ours, then the values' extra ones).
    """

    config: ClientConfig
    values: ValuesConfig
    tracks: tuple[Track, ...]
    secret_name: str = "deerflow-secrets"
    labels: Mapping[str, str] | None = None

    @property
    def namespace(self) -> str:
        """
        Where every object goes.
        """
        return self.values.namespace

    @property
    def image(self) -> str:
        """
        The app's container image.
        """
        return self.values.image

    @property
    def autoscaler(self) -> Autoscaler:
        """
        ``"keda"`` or ``"hpa"``; each Deployment gets exactly one.
        """
        return self.values.autoscaler

    @property
    def key_envs(self) -> tuple[str, ...]:
        """
        The environment variables naming the providers' keys, in provider order.
        """
        return tuple(p.api_key_env for p in self.config.providers if p.api_key_env)

    @property
    def request_timeout(self) -> float:
        """
        Seconds one call may take, retries and failovers included (`call_deadline`).
        """
        return call_deadline(self.config)

    @property
    def grace_seconds(self) -> int:
        """
        ``terminationGracePeriodSeconds``: the preStop sleep, a whole call started just
        before it, and 20 s for the app to exit.
        """
        return math.ceil(PRESTOP_SLEEP + self.request_timeout + 20)

    @property
    def drain_seconds(self) -> int:
        """
        How long the sidecar keeps forwarding the app's calls after the pod is told to
        stop: the preStop sleep and a whole call, plus 5 s.
        """
        return math.ceil(PRESTOP_SLEEP + self.request_timeout + 5)

    @property
    def version(self) -> str | None:
        """
        The image tag, used as the pods' ``version`` label (none for a digest).
        """
        if "@" in self.image:
            return None
        tail = self.image.rsplit("/", 1)[-1]
        tag = tail.split(":", 1)[1] if ":" in tail else "latest"
        return (
            tag
            if re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", tag)
            else None
        )


SIDECAR_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
"""The sidecar requests the stack pins by annotation, so the quota can count them."""
SIDECAR_LIMITS = {"cpu": "1", "memory": "512Mi"}
"""The sidecar limits the stack pins by annotation."""


def sidecar_annotations() -> dict[str, str]:
    """
    The pod annotations pinning Istio's sidecar to `SIDECAR_REQUESTS` and
    `SIDECAR_LIMITS`.
    """
    return {
        "sidecar.istio.io/proxyCPU": SIDECAR_REQUESTS["cpu"],
        "sidecar.istio.io/proxyCPULimit": SIDECAR_LIMITS["cpu"],
        "sidecar.istio.io/proxyMemory": SIDECAR_REQUESTS["memory"],
        "sidecar.istio.io/proxyMemoryLimit": SIDECAR_LIMITS["memory"],
    }


def object_meta(plan: Plan, name: str, **labels: str) -> ObjectMeta:
    """
    Metadata of one of the stack's namespaced objects: ``labels``, then the labels
    every object carries, and the values' extra annotations.
    """
    return ObjectMeta(
        name=name,
        namespace=plan.namespace,
        labels={**labels, **(plan.labels or {})},
        annotations=dict(plan.values.annotations) or None,
    )


def pod_sizing(
    requests: Mapping[str, str],
    limits: Mapping[str, str],
    annotations: Mapping[str, str],
) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """
    One pod's CPU and memory requests and limits: the container's plus the sidecar's,
    as Istio's injector sets it from the pod's annotations.
    """
    sidecar = sidecar_resources(annotations)
    out: list[dict[str, Fraction]] = []
    for section, values in (("requests", requests), ("limits", limits)):
        out.append(
            {
                r: parse_quantity(values[r]) + sidecar[section].get(r, Fraction(0))
                for r in ("cpu", "memory")
            }
        )
    return out[0], out[1]
