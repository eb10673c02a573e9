"""
The nested sections of a values file: replicas, resources, probes, tolerations and
the shared-state Redis. In each, a key left out keeps its reference default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from ..errors import ConfigError
from ._names import check_name
from ._units import parse_quantity
from ._values_base import DEFAULT_LIMITS, DEFAULT_REQUESTS, REDIS_IMAGE, Values

__all__ = [
    "ProbeConfig",
    "ProbesConfig",
    "RedisDeployConfig",
    "ReplicasConfig",
    "ResourcesConfig",
    "TolerationConfig",
]

_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _quantities(field: str, value: Mapping[str, Any] | None) -> dict[str, str] | None:
    if value is None:
        return None
    out: dict[str, str] = {}
    for name, raw in value.items():
        if name not in _RESOURCES and "/" not in str(name):
            raise ConfigError(
                str(name), "unknown resource; expected cpu, memory or ephemeral-storage"
            )
        text = str(raw)
        try:
            parse_quantity(raw)
        except ValueError:
            raise ConfigError(
                str(name), "expected a quantity such as '500m' or '4Gi'"
            ) from None
        out[str(name)] = text
    return out


class ReplicasConfig(Values):
    """
    The replica range each track's autoscaler keeps to.

    Attributes:
        min: The fewest replicas (at least 1: a track with no pod answers 503).
        max: The most replicas; the quota is sized for it.
    """

    min: int = Field(2, ge=1, le=1000)
    max: int = Field(20, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ConfigError("min", "must not be above max")
        return self


class ResourcesConfig(Values):
    """
    The app container's requests and limits; each resource left out keeps its default
    (requests 2 CPU / 4Gi, limits 4 CPU / 8Gi).
    """

    requests: dict[str, str] | None = None
    limits: dict[str, str] | None = None

    @field_validator("requests", "limits", mode="before")
    @classmethod
    def _quantities(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, Mapping):
            raise ValueError("expected a mapping such as {cpu: '2', memory: 4Gi}")
        return _quantities("", value)

    @property
    def effective_requests(self) -> dict[str, str]:
        """
        The requests with the defaults filled in.
        """
        return {**DEFAULT_REQUESTS, **(self.requests or {})}

    @property
    def effective_limits(self) -> dict[str, str]:
        """
        The limits with the defaults filled in.
        """
        return {**DEFAULT_LIMITS, **(self.limits or {})}

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        requests, limits = self.effective_requests, self.effective_limits
        for name, value in requests.items():
            if name in limits and parse_quantity(value) > parse_quantity(limits[name]):
                raise ConfigError(
                    f"requests.{name}",
                    f"must not be above limits.{name} ({limits[name]});"
                    " the API server rejects the pods",
                )
        return self


class ProbeConfig(Values):
    """
    One HTTP probe; each field left out keeps the reference value.

    Attributes:
        path: The HTTP path, e.g. ``/health``.
        port: The container port, by number or name (default ``http``).
        initial_delay_seconds: Seconds before the first probe.
        period_seconds: Seconds between probes.
        timeout_seconds: Seconds one probe may take.
        failure_threshold: Failures in a row that count.
        success_threshold: Successes in a row that count (1 for liveness).
    """

    path: str | None = None
    port: int | str | None = None
    initial_delay_seconds: int | None = Field(None, ge=0)
    period_seconds: int | None = Field(None, ge=1)
    timeout_seconds: int | None = Field(None, ge=1)
    failure_threshold: int | None = Field(None, ge=1)
    success_threshold: int | None = Field(None, ge=1)

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("expected an absolute path such as /health")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError("expected a port number 1..65535 or a port name")
        if isinstance(value, str):
            check_name("", value)
        return value


class ProbesConfig(Values):
    """
    The app container's probes (``/health`` for liveness, ``/ready`` for readiness, as
    the seed had); ``startup`` is added only when given.
    """

    liveness: ProbeConfig = ProbeConfig()
    readiness: ProbeConfig = ProbeConfig()
    startup: ProbeConfig | None = None

    @model_validator(mode="after")
    def _liveness_once(self) -> Self:
        for name in ("liveness", "startup"):
            probe: ProbeConfig | None = getattr(self, name)
            if probe is not None and probe.success_threshold not in (None, 1):
                raise ConfigError(
                    f"{name}.successThreshold", f"must be 1 for a {name} probe"
                )
        return self


class TolerationConfig(Values):
    """
    One toleration of the pods (``kubectl explain pod.spec.tolerations``).
    """

    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.operator == "Exists" and self.value:
            raise ConfigError("value", "must be empty when operator is Exists")
        if not self.key and self.operator != "Exists":
            raise ConfigError("operator", "must be Exists when key is empty")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ConfigError("tolerationSeconds", "applies only to effect NoExecute")
        return self


class RedisDeployConfig(Values):
    """
    Shared breaker state and rate limits across the pods (see ``docs/scaling.md``).

    Attributes:
        mode: ``none``, ``embedded`` (a Redis Deployment in the set) or ``external``.
        url: The external Redis (``external`` only), without a password.
        image: The embedded Redis's image, pinned by digest by default.
    """

    mode: Literal["none", "embedded", "external"] = "none"
    url: str | None = None
    image: str = REDIS_IMAGE

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError("expected an image reference without spaces")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        if parts.password:
            raise ValueError(
                "carries a password, which must not go into a ConfigMap: give it to"
                " the pods as HOLYSHEEP_SHARED_STATE_URL from a Secret instead"
            )
        return value
