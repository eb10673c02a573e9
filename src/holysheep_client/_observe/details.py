"""
The frozen details objects hooks receive; none carries a request header, so no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .._models import GateStatus

__all__ = [
    "AttemptDetails",
    "BreakerTransition",
    "GateDetails",
    "RateLimitWaitDetails",
    "RequestDetails",
    "RetryDetails",
    "RouteDecision",
    "ShadowDetails",
]


@dataclass(frozen=True, slots=True)
class AttemptDetails:
    """
    One HTTP attempt, reported when it ends (headers received, or it failed).

    Attributes:
        provider: The provider's name.
        attempt: 1-based attempt number on this provider within the call.
        method: HTTP method.
        url: The URL (keys travel in headers, never here).
        status_code: The status, or ``None`` when no response came.
        error: The class name of the error, or ``None``.
        started_at: Wall-clock start, for spans with explicit timestamps.
        duration: Seconds from send to headers (or failure).
    """

    provider: str
    attempt: int
    method: str
    url: str
    status_code: int | None
    error: str | None
    started_at: datetime
    duration: float


@dataclass(frozen=True, slots=True)
class RetryDetails:
    """
    A retry about to be slept on: ``wait`` seconds before attempt ``attempt + 1``.
    """

    provider: str
    attempt: int
    wait: float
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    """
    A circuit breaker changed state.
    """

    provider: str
    old_state: str
    new_state: str


@dataclass(frozen=True, slots=True)
class RateLimitWaitDetails:
    """
    A call waited for rate-limit or concurrency capacity.
    """

    provider: str | None
    kind: str
    waited: float


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """
    The router chose a provider for a hop of a call.

    Attributes:
        provider: The chosen provider.
        hop: 0 for the primary, 1+ for failovers.
        reason: ``"weighted"``, ``"sticky"``, ``"failover"``, ``"hedge"``, ``"resume"``,
            or ``"context_fallback"``.
        previous_error: The class name of the error that caused a failover.
    """

    provider: str
    hop: int
    reason: str
    previous_error: str | None = None


@dataclass(frozen=True, slots=True)
class RequestDetails:
    """
    A whole call finished, successfully or not.

    ``input_tokens`` counts every input token; ``cache_read_input_tokens`` and
    ``cache_creation_input_tokens`` are the parts of it read from and written to the
    provider's prompt cache. ``provider_kind`` is the serving provider's protocol
    (``anthropic``, ``openai``); ``tags`` the call's ``tags=``.
    """

    operation: str
    requested_model: str
    response_model: str | None
    provider: str | None
    attempts: int
    latency: float
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    error: str | None
    stream: bool = False
    time_to_first_token: float | None = None
    finish_reason: str | None = None
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    provider_kind: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GateDetails:
    """
    The migration gate's figures, when judged (at most once a second) and whenever
    the migration holds, rolls back or advances.

    Attributes:
        target: The migration's target.
        phase: The phase in force (for ``"advanced"``, the new one).
        decision: ``"observe"`` (figures only), ``"held"``, ``"rolled_back"`` or
            ``"advanced"``.
        status: The gate's figures and failing thresholds (``None`` without a gate:
            a rollback by the rollback rule, seen from the shared state).
        reason: Why it held or rolled back (the failing figures), or ``None``.

    .. versionadded:: 0.2.0
    """

    target: str
    phase: str | None
    decision: Literal["observe", "held", "rolled_back", "advanced"]
    status: GateStatus | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ShadowDetails:
    """
    One shadow call ended, or a sampled call was not shadowed.

    Attributes:
        provider: The migration's target.
        outcome: ``"answered"``, ``"failed"`` (a target failure) or ``"skipped"``
            (``max_in_flight`` reached, or refused by the target's breaker or rate
            limit before sending).
        latency: Seconds from sending to the whole answer, when answered.
        cost_usd: The shadow answer's cost (never in a caller's or a provider's).
        agreement: The comparator's score in [0, 1], when answered.
        error: The class name of the error, when failed.

    .. versionadded:: 0.2.0
    """

    provider: str
    outcome: Literal["answered", "failed", "skipped"]
    latency: float | None = None
    cost_usd: float | None = None
    agreement: float | None = None
    error: str | None = None
