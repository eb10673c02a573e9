"""
Configuration models, validated once at the edge.

Every way in (the constructors, ``model_validate``, ``model_validate_json``,
``from_yaml``, ``from_env``) raises `ConfigError` naming the field and the
reason, never pydantic's ``ValidationError``, and never the value (it may be a key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._utils import has_control_chars, is_loopback_host, parse_duration
from .errors import ConfigError

__all__ = [
    "BreakerConfig",
    "ClientConfig",
    "HedgingConfig",
    "MigrationConfig",
    "MigrationPhase",
    "ModelPrice",
    "PoolConfig",
    "ProviderConfig",
    "RateLimitConfig",
    "RetryConfig",
    "RollbackConfig",
    "SharedStateConfig",
    "TimeoutConfig",
]

_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar(
    "holysheep_environ", default=None
)

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, from a number or a string such as "90s", "30m", "24h"."""

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


def _config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """
    Turn pydantic's error into ours: field path and reason, never the input.
    """
    err = exc.errors(include_input=False, include_url=False)[0]
    loc = [str(p) for p in err.get("loc", ())]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        loc.append(cause.field)
        reason = cause.reason
    else:
        reason = err.get("msg", "invalid value")
        reason = reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    field = ".".join(p for p in [prefix, *loc] if p) or "config"
    return ConfigError(field, reason)


class _Model(BaseModel):
    """
    Base of every config model: frozen, strict about unknown keys, `ConfigError` on failure.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """
        Validate a mapping (or model) into this config.

        Raises:
            ConfigError: Naming the first invalid field and why.
        """
        ctx = kwargs.get("context")
        env = ctx.get("environ") if isinstance(ctx, Mapping) else None
        token = _ENVIRON.set(env) if env is not None else None
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _config_error(exc) from None
        finally:
            if token is not None:
                _ENVIRON.reset(token)

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        """
        Validate a JSON document into this config.

        Raises:
            ConfigError: Naming the first invalid field and why.
        """
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _config_error(exc) from None


class RetryConfig(_Model):
    """
    How one provider's failed attempts are retried.

    Attributes:
        max_attempts: Attempts per provider per call, the first included.
        initial_backoff: Cap of the first backoff, in seconds (doubled per retry).
        max_backoff: Cap of any backoff, in seconds.
        jitter: ``"full"`` draws each wait uniformly from [0, cap]; ``"none"`` waits the cap.
        retry_on_status: Statuses that are retried (never 400/401/403/404/422).
        respect_retry_after: Honour ``retry-after-ms`` / ``Retry-After``.
        max_retry_after: A requested wait longer than this gives the provider up at once.
        budget_ratio: Retries in the last 10 s may not exceed this share of calls...
        budget_min_retries: ...plus this floor, so a quiet client can always retry.
    """

    max_attempts: int = Field(3, ge=1, le=20)
    initial_backoff: Duration = 0.5
    max_backoff: Duration = 8.0
    jitter: Literal["full", "none"] = "full"
    retry_on_status: tuple[int, ...] = (408, 409, 429, 500, 502, 503, 504, 529)
    respect_retry_after: bool = True
    max_retry_after: Duration = 60.0
    budget_ratio: float = Field(0.2, ge=0)
    budget_min_retries: int = Field(10, ge=0)

    @field_validator("retry_on_status")
    @classmethod
    def _no_caller_errors(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        never = sorted({400, 401, 403, 404, 422} & set(v))
        if never:
            raise ValueError(
                f"status {never[0]} is a caller error and is never retried"
            )
        if any(not 100 <= s <= 599 for s in v):
            raise ValueError("statuses must be between 100 and 599")
        return v

    @model_validator(mode="after")
    def _caps(self) -> Self:
        if self.max_backoff < self.initial_backoff:
            raise ConfigError("max_backoff", "must be at least initial_backoff")
        return self


class BreakerConfig(_Model):
    """
    One circuit breaker per provider.

    Attributes:
        fail_max: Consecutive failed attempts that open the breaker.
        reset_timeout: Seconds open before one trial call is let through.
    """

    fail_max: int = Field(10, ge=1)
    reset_timeout: Duration = Field(60.0, gt=0)


class RateLimitConfig(_Model):
    """
    A per-provider request rate; the bucket holds at most one second's burst.

    Attributes:
        requests_per_second: The rate; ``None`` means unlimited.
    """

    requests_per_second: float | None = Field(100.0, gt=0)


class PoolConfig(_Model):
    """
    Connection pool limits of each provider's pool transport.
    """

    max_connections: int = Field(100, ge=1)
    max_keepalive_connections: int = Field(50, ge=0)
    keepalive_expiry: Duration = 5.0
    http2: bool = False


class TimeoutConfig(_Model):
    """
    Timeouts, in seconds; ``None`` means no bound.

    Attributes:
        connect: Establishing a connection.
        per_attempt: One HTTP attempt (each read waits at most this long).
        total: The whole call: retries, waits, failovers and hedges.
        first_token: A stream's wait for its first delta (then: fail over).
        stream_idle: The longest gap between a stream's chunks (a stall is a break).
    """

    connect: Duration | None = 5.0
    per_attempt: Duration | None = 30.0
    total: Duration | None = None
    first_token: Duration | None = None
    stream_idle: Duration | None = None

    @model_validator(mode="after")
    def _positive(self) -> Self:
        for name in ("connect", "per_attempt", "total", "first_token", "stream_idle"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ConfigError(name, "must be greater than 0, or null for no bound")
        return self


class MigrationPhase(_Model):
    """
    One step of a migration: the target's weight for a duration.

    Attributes:
        name: The phase's name, e.g. ``"canary"``.
        duration: How long it holds; ``0`` means open-ended (last phase only).
        weight: The target's weight in percent, 0 to 100.
    """

    name: str = Field(min_length=1, max_length=63)
    duration: Duration = 0.0
    weight: float = Field(ge=0, le=100)


class RollbackConfig(_Model):
    """
    When a migration's target is rolled back to weight 0.

    Attributes:
        max_error_rate: The target's error rate above which it is rolled back.
        min_requests: Outcomes needed in the window before judging.
        window: The sliding window, in seconds.
        max_latency_p95: Optional latency ceiling in seconds for the target's p95.
    """

    max_error_rate: float = Field(0.05, ge=0, le=1)
    min_requests: int = Field(50, ge=1)
    window: Duration = Field(300.0, gt=0)
    max_latency_p95: Duration | None = None


class MigrationConfig(_Model):
    """
    A timed move of traffic from ``source`` to ``target``, with automatic rollback.

    Attributes:
        source: The provider traffic moves away from; it gets ``100 - target weight``.
        target: The provider traffic moves to.
        started_at: When the first phase begins (timezone-aware); ``None``: not started.
        phases: The steps, in order.
        rollback: The rollback rule, or ``None`` for none.
    """

    source: str
    target: str
    started_at: datetime | None = None
    phases: tuple[MigrationPhase, ...] = Field(min_length=1)
    rollback: RollbackConfig | None = RollbackConfig()

    @field_validator("started_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("must be a timezone-aware datetime")
        return v

    @model_validator(mode="after")
    def _phases(self) -> Self:
        if self.source == self.target:
            raise ConfigError("target", "must differ from source")
        for i, phase in enumerate(self.phases[:-1]):
            if phase.duration == 0:
                raise ConfigError(
                    f"phases.{i}.duration", "only the last phase may be open-ended (0)"
                )
        return self


class HedgingConfig(_Model):
    """
    Hedged requests: a call not answered after ``delay`` is also sent to the next provider.

    Attributes:
        delay: Seconds, or a latency quantile such as ``"p95"`` of observed calls.
        max_hedges: Extra attempts at most per call.
        min_samples: Observations needed before a quantile delay is used.
        fallback_delay: The delay used until then.
    """

    delay: Duration | Annotated[str, Field(pattern=r"^p(\d{1,2}(\.\d+)?)$")] = 0.5
    max_hedges: int = Field(1, ge=1, le=5)
    min_samples: int = Field(20, ge=1)
    fallback_delay: Duration = 0.5

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, v: Any) -> Any:
        if isinstance(v, str) and v.startswith("p"):
            return v
        return parse_duration(v)

    @property
    def quantile(self) -> float | None:
        """
        The quantile in (0, 1) for an adaptive delay, or ``None`` for a fixed one.
        """
        if isinstance(self.delay, str):
            return float(self.delay[1:]) / 100.0
        return None


class ModelPrice(_Model):
    """
    USD per million tokens for one model.
    """

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class SharedStateConfig(_Model):
    """
    Breaker state and rate limits shared by every process using the same url and prefix.

    Attributes:
        url: A ``redis://`` URL (its password, if any, is never logged).
        prefix: The key prefix.
        timeout: Seconds to wait for Redis before falling back to local state.
    """

    url: SecretStr
    prefix: str = "holysheep:"
    timeout: Duration = Field(0.05, gt=0)

    @field_validator("url")
    @classmethod
    def _redis(cls, v: SecretStr) -> SecretStr:
        scheme = urlsplit(v.get_secret_value()).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return v


def _environ(info: ValidationInfo) -> Mapping[str, str]:
    # Models with a custom __init__ lose pydantic's validation context when nested,
    # so an explicit environ also travels in a context variable.
    ctx = info.context if isinstance(info.context, Mapping) else {}
    env = ctx.get("environ") or _ENVIRON.get()
    if env is None:
        from ._config_sources import process_environ

        return process_environ()
    return env


class ProviderConfig(_Model):
    """
    One upstream provider.

    Attributes:
        name: Unique name, e.g. ``"holysheep"``.
        base_url: Including the version prefix, e.g. ``"https://api.holysheep.ai/v1"``.
        protocol: ``"anthropic"`` (Messages API) or ``"openai"`` (chat completions).
        api_key_env: The environment variable holding the key (resolved when validated)...
        api_key: ...or the key itself, kept as a ``SecretStr``.
        weight: Relative share of primary traffic, >= 0.
        models: Alias -> this provider's model id.
        allow_insecure_http: Permit ``http://`` to a host that is not loopback.
    """

    name: str
    base_url: str
    protocol: Literal["anthropic", "openai"] = "anthropic"
    api_key_env: str | None = None
    api_key: SecretStr | None = None
    weight: float = Field(100.0, ge=0)
    models: dict[str, str] = Field(default_factory=dict)
    allow_insecure_http: bool = False

    _key: SecretStr = PrivateAttr(default=SecretStr(""))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                "expected 1-63 letters, digits, '-', '_' or '.', starting and ending"
                " with a letter or digit"
            )
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL with a host")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; use api_key_env")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> Self:
        parts = urlsplit(self.base_url)
        if (
            parts.scheme == "http"
            and not self.allow_insecure_http
            and not is_loopback_host(parts.hostname or "")
        ):
            raise ConfigError(
                "base_url",
                "http:// is only allowed for loopback hosts; use https:// or set"
                " allow_insecure_http=True",
            )
        if (self.api_key is None) == (self.api_key_env is None):
            raise ConfigError("api_key", "give exactly one of api_key or api_key_env")
        if self.api_key_env is not None:
            value = _environ(info).get(self.api_key_env)
            if value is None:
                raise ConfigError(
                    "api_key_env",
                    f"environment variable {self.api_key_env} is not set",
                )
            field, key = "api_key_env", value
        else:
            assert self.api_key is not None
            field, key = "api_key", self.api_key.get_secret_value()
        if not key.strip():
            raise ConfigError(field, "the API key is empty")
        if has_control_chars(key) or not key.isascii():
            raise ConfigError(
                field, "the API key contains control or non-ASCII characters"
            )
        self._key = SecretStr(key.strip())
        return self

    def secret(self) -> SecretStr:
        """
        The resolved API key (still a ``SecretStr``; unwrap it only to send it).
        """
        return self._key

    def model_for(self, alias: str) -> str:
        """
        This provider's model id for ``alias`` (the alias itself when not mapped).
        """
        return self.models.get(alias, alias)


class ClientConfig(_Model):
    """
    Everything a `Client` / `AsyncClient` needs; see the configuration guide.
    """

    providers: tuple[ProviderConfig, ...] = Field(min_length=1)
    retry: RetryConfig = RetryConfig()
    circuit_breaker: BreakerConfig = BreakerConfig()
    rate_limit: RateLimitConfig | None = RateLimitConfig()
    pool: PoolConfig = PoolConfig()
    timeout: TimeoutConfig = TimeoutConfig()
    max_concurrent_requests: int | None = Field(50, ge=1)
    migration: MigrationConfig | None = None
    hedging: HedgingConfig | None = None
    context_fallbacks: dict[str, str] = Field(default_factory=dict)
    pricing: dict[str, ModelPrice] | None = None
    cny_per_usd: float = Field(7.3, gt=0)
    shared_state: SharedStateConfig | None = None

    @model_validator(mode="after")
    def _cross(self) -> Self:
        names = [p.name for p in self.providers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigError(f"providers.{i}.name", "duplicate provider name")
        if all(p.weight == 0 for p in self.providers):
            raise ConfigError(
                "providers", "all weights are 0; at least one must be positive"
            )
        if self.migration is not None:
            for field in ("source", "target"):
                if getattr(self.migration, field) not in names:
                    raise ConfigError(f"migration.{field}", "names an unknown provider")
        for alias, bigger in self.context_fallbacks.items():
            if alias == bigger:
                raise ConfigError(
                    f"context_fallbacks.{alias}", "must name a different model"
                )
        return self

    def provider(self, name: str) -> ProviderConfig:
        """
        The provider called ``name``.

        Raises:
            ConfigError: No provider has that name.
        """
        for p in self.providers:
            if p.name == name:
                return p
        raise ConfigError("provider", f"no provider is named {name!r}")

    @classmethod
    def from_yaml(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None
    ) -> Self:
        """
        Load a YAML file in this shape, or in the seed's ``api_configs`` shape.

        Args:
            path: The file.
            environ: Where ``api_key_env`` / ``api_key_ref`` are looked up
                (the process environment by default).

        Raises:
            ConfigError: The file is missing, not YAML, or not a valid config.
        """
        from ._config_sources import load_yaml

        return load_yaml(cls, path, environ=environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """
        Build a single-provider config from ``HOLYSHEEP_API_KEY``, ``HOLYSHEEP_BASE_URL``
        (``DEERFLOW_BASE_URL`` accepted), ``MAX_CONCURRENT_REQUESTS``, ``REQUEST_TIMEOUT``,
        and optionally ``HOLYSHEEP_PROTOCOL`` and ``HOLYSHEEP_SHARED_STATE_URL`` (a Redis
        URL, which may carry a password from a Secret).

        Raises:
            ConfigError: A variable is missing or invalid; the error names it.
        """
        from ._config_sources import load_env

        return load_env(cls, environ)

    def to_dict(self) -> dict[str, Any]:
        """
        This config in the YAML shape that `from_yaml` reads back, with no secret in it.

        Raises:
            ConfigError: A provider carries a literal ``api_key`` (only ``api_key_env``
                can be written out).
        """
        from ._config_sources import dump_dict

        return dump_dict(self)

    def to_yaml(self) -> str:
        """
        `to_dict` as a YAML document.
        """
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
