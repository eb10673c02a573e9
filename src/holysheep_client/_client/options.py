"""
Per-call options: a deadline, attempts, extra headers, a provider pin and tags, for one
call or for a `with_options` view, checked once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._config import TimeoutConfig
from .._types import USE_DEFAULT, UseDefault
from ..errors import BadRequestError, ConfigError

__all__ = ["FORBIDDEN_HEADERS", "CallOptions", "call_options"]

#: Headers a caller may not set: they carry the key (our auth headers).
FORBIDDEN_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie"}
)
_MAX_TAGS = 16


@dataclass(frozen=True, slots=True)
class CallOptions:
    """
    What one call (or a client view) overrides of the client's configuration.

    Attributes:
        timeout: The call's timeouts (a number given becomes ``total``).
        max_attempts: Attempts per provider, at most.
        extra_headers: Sent to every provider of the call; never logged.
        providers: Only these providers are candidates, in the router's order.
        tags: Labels for hooks, spans and budgets.
    """

    timeout: TimeoutConfig | None = None
    max_attempts: int | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    providers: frozenset[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def merged(self, other: CallOptions) -> CallOptions:
        """
        ``other`` over these (headers and tags merge, ``other`` winning per key).
        """
        return CallOptions(
            timeout=other.timeout or self.timeout,
            max_attempts=other.max_attempts or self.max_attempts,
            extra_headers={**self.extra_headers, **other.extra_headers},
            providers=other.providers
            if other.providers is not None
            else self.providers,
            tags={**self.tags, **other.tags},
        )

    def __repr__(self) -> str:
        # Header values may carry credentials of their own: names only.
        return (
            f"CallOptions(timeout={self.timeout!r}, max_attempts={self.max_attempts!r},"
            f" extra_headers={sorted(self.extra_headers)!r}, providers="
            f"{sorted(self.providers) if self.providers is not None else None!r},"
            f" tags={dict(self.tags)!r})"
        )


def _timeout(value: object, base: TimeoutConfig) -> TimeoutConfig | None:
    if isinstance(value, UseDefault) or value is None:
        return None
    if isinstance(value, TimeoutConfig):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise BadRequestError("timeout: expected seconds > 0 or a TimeoutConfig")
    try:
        return TimeoutConfig.model_validate(
            {**base.model_dump(), "total": float(value)}
        )
    except ConfigError as exc:
        raise BadRequestError(f"timeout: {exc.reason}") from None


def _headers(value: object) -> dict[str, str]:
    if value is None or isinstance(value, UseDefault):
        return {}
    if not isinstance(value, Mapping):
        raise BadRequestError(
            "extra_headers: expected a mapping of header names to values"
        )
    out: dict[str, str] = {}
    for name, v in value.items():
        if (
            not isinstance(name, str)
            or not name
            or not name.isascii()
            or not isinstance(v, str)
        ):
            raise BadRequestError(
                "extra_headers: expected ASCII names and string values"
            )
        if any(c in name + v for c in "\r\n\0") or ":" in name or " " in name:
            raise BadRequestError(
                f"extra_headers.{name}: has characters a header cannot hold"
            )
        if name.lower() in FORBIDDEN_HEADERS:
            raise BadRequestError(
                f"extra_headers.{name}: would override the client's auth headers"
            )
        out[name.lower()] = v
    return out


def _providers(value: object, known: Sequence[str]) -> frozenset[str] | None:
    if value is None or isinstance(value, UseDefault):
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise BadRequestError("providers: expected a list of provider names")
    names = frozenset(value)
    unknown = sorted(n for n in names if n not in known)
    if unknown:
        raise BadRequestError(f"providers: {unknown[0]!r} names no configured provider")
    if not names:
        raise BadRequestError("providers: expected at least one provider")
    return names


def _tags(value: object) -> dict[str, str]:
    if value is None or isinstance(value, UseDefault):
        return {}
    if not isinstance(value, Mapping):
        raise BadRequestError("tags: expected a mapping of strings to strings")
    if len(value) > _MAX_TAGS:
        raise BadRequestError(f"tags: at most {_MAX_TAGS} tags")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k:
            raise BadRequestError(
                "tags: expected non-empty string keys and string values"
            )
    return dict(value)


def call_options(
    *,
    base: TimeoutConfig,
    providers_known: Sequence[str],
    timeout: Any = USE_DEFAULT,
    max_attempts: Any = USE_DEFAULT,
    extra_headers: Any = USE_DEFAULT,
    providers: Any = USE_DEFAULT,
    tags: Any = USE_DEFAULT,
) -> CallOptions:
    """
    Check per-call options.

    Raises:
        BadRequestError: Naming the option that is wrong.
    """
    attempts = None
    if not isinstance(max_attempts, UseDefault) and max_attempts is not None:
        if (
            isinstance(max_attempts, bool)
            or not isinstance(max_attempts, int)
            or not 1 <= max_attempts <= 20
        ):
            raise BadRequestError("max_attempts: expected an integer from 1 to 20")
        attempts = max_attempts
    return CallOptions(
        timeout=_timeout(timeout, base),
        max_attempts=attempts,
        extra_headers=_headers(extra_headers),
        providers=_providers(providers, providers_known),
        tags=_tags(tags),
    )
