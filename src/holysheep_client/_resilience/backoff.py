"""
Pure retry maths: backoff caps and jitter, ``Retry-After`` parsing, retry decisions.

Nothing here does I/O or reads time by itself: the caller passes the clock's
``now()`` and an ``rng``, like stamina's ``_compute_backoff`` and aiolimiter's ``_leak``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = [
    "NEVER_RETRY",
    "backoff_cap",
    "breaker_verdict",
    "compute_backoff",
    "parse_retry_after",
    "should_retry_status",
]

#: Caller errors: never retried, never a provider failure, whatever the config says.
NEVER_RETRY: Final = frozenset({400, 401, 403, 404, 422})


def backoff_cap(retry: int, *, initial: float, maximum: float) -> float:
    """
    The ceiling of the wait before retry number ``retry`` (1 for the first retry).

    Args:
        retry: 1-based retry number.
        initial: The first retry's ceiling, in seconds.
        maximum: No ceiling exceeds this.

    Returns:
        ``min(maximum, initial * 2 ** (retry - 1))``.
    """
    if retry < 1:
        return 0.0
    # Past 2**60 the product overflows nothing useful; the cap has long been hit.
    return min(maximum, initial * 2.0 ** min(retry - 1, 60))


def compute_backoff(
    retry: int,
    *,
    initial: float,
    maximum: float,
    jitter: str,
    rng: random.Random,
) -> float:
    """
    The wait before retry number ``retry``: full jitter over the exponential cap.

    Args:
        retry: 1-based retry number.
        initial: The first retry's ceiling, in seconds.
        maximum: No wait exceeds this.
        jitter: ``"full"`` draws uniformly from ``[0, cap]``; ``"none"`` waits the cap.
        rng: The source of randomness (seed it in tests).

    Returns:
        Seconds to wait.
    """
    cap = backoff_cap(retry, initial=initial, maximum=maximum)
    if jitter == "none":
        return cap
    return rng.uniform(0.0, cap)


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """
    The wait a response asks for: ``retry-after-ms``, then ``Retry-After``.

    ``Retry-After`` may be delay-seconds (integer or decimal) or an HTTP-date,
    which is measured against ``now``. A date in the past means 0.

    Args:
        headers: The response headers (case-insensitive mapping).
        now: The current wall-clock time, timezone-aware.

    Returns:
        Seconds (>= 0), or ``None`` when neither header is present and valid.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        value = _number(ms)
        if value is not None:
            return value / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    value = _number(raw)
    if value is not None:
        return value
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if value != value or value < 0 or value == float("inf"):
        return None
    return value


def should_retry_status(
    status: int, headers: Mapping[str, str], retry_on: frozenset[int]
) -> bool:
    """
    Whether a response status may be retried, ``x-should-retry`` obeyed.

    Caller errors (400/401/403/404/422) are never retried, even when the server
    says ``x-should-retry: true``.

    Args:
        status: The HTTP status.
        headers: The response headers.
        retry_on: The configured retryable statuses.

    Returns:
        True when a retry is allowed.
    """
    if status in NEVER_RETRY:
        return False
    hint = headers.get("x-should-retry")
    if hint is not None:
        hint = hint.strip().lower()
        if hint == "true":
            return True
        if hint == "false":
            return False
    return status in retry_on


def breaker_verdict(status: int) -> bool | None:
    """
    What a response status means to a circuit breaker.

    Args:
        status: The HTTP status.

    Returns:
        False for a provider failure (5xx, 408), ``None`` for 429 (the provider is
        up but busy: neither failure nor success), True otherwise (the provider
        answered; caller errors such as 400/404/422 are not its failures).
    """
    if status >= 500 or status == 408:
        return False
    if status == 429:
        return None
    return True
