"""
Retry, breaker, rate limit, pool, timeout and shared-state settings.
"""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from .._utils import has_control_chars
from ..errors import ConfigError
from .base import ConfigModel, Duration

__all__ = [
    "BreakerConfig",
    "BudgetConfig",
    "PoolConfig",
    "RateLimitConfig",
    "RetryConfig",
    "SharedStateConfig",
    "TimeoutConfig",
    "check_redis_url",
]


class RetryConfig(ConfigModel):
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


class BreakerConfig(ConfigModel):
    """
    One circuit breaker per provider.

    Attributes:
        fail_max: Consecutive failed attempts that open the breaker.
        reset_timeout: Seconds open before one trial call is let through.
    """

    fail_max: int = Field(10, ge=1)
    reset_timeout: Duration = Field(60.0, gt=0)


class RateLimitConfig(ConfigModel):
    """
    Per-provider limits: a request rate, and a token rate.

    Attributes:
        requests_per_second: The request rate; the bucket holds at most one second's
            burst. ``None`` means unlimited.
        tokens_per_minute: The token rate: a bucket holding one minute's tokens,
            refilled continuously. A call reserves its input estimate plus
            ``max_tokens`` before sending and is settled with the reported usage
            after; ``None`` means unlimited.

    .. versionchanged:: 0.2.0 ``tokens_per_minute``.
    """

    requests_per_second: float | None = Field(100.0, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)


class PoolConfig(ConfigModel):
    """
    Connection pool limits of each provider's pool transport.
    """

    max_connections: int = Field(100, ge=1)
    max_keepalive_connections: int = Field(50, ge=0)
    keepalive_expiry: Duration = 5.0
    http2: bool = False


class TimeoutConfig(ConfigModel):
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


class SharedStateConfig(ConfigModel):
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
        check_redis_url(v.get_secret_value())
        return v


def check_redis_url(url: str) -> None:
    """
    Validate a Redis URL as the client will read it, without echoing it.

    Raises:
        ValueError: Naming what is wrong (never the URL: it may carry a password).
    """
    if len(url) > 2048 or has_control_chars(url) or any(c.isspace() for c in url):
        raise ValueError("expected a URL without spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    if parts.fragment:
        raise ValueError("must not carry a #fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("a unix:// URL needs the socket's path")
    else:
        if not parts.hostname:
            raise ValueError("expected a host, as in redis://host:6379/0")
        if port == 0:
            raise ValueError("the port must be a number from 1 to 65535")
        db = parts.path.strip("/")
        if db and not (db.isascii() and db.isdigit() and len(db) <= 5):
            raise ValueError("the path must be a database number, as in /0")
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name == "db" and not all(x.isascii() and x.isdigit() for x in values):
            raise ValueError("the db query parameter must be a database number")


class BudgetConfig(ConfigModel):
    """
    A daily spend cap: once a tag value's spend today (UTC) reaches ``usd_per_day``,
    its calls raise `BudgetExceededError` before anything is sent.

    Attributes:
        usd_per_day: The cap in USD, per value of the tag.
        per_tag: The ``tags=`` key whose values are capped one by one (e.g.
            ``"tenant"``); ``None`` caps the whole client. A call without the tag is
            not subject to a per-tag budget.

    .. versionadded:: 0.2.0
    """

    usd_per_day: float = Field(gt=0)
    per_tag: str | None = Field("tenant", min_length=1, max_length=64)
