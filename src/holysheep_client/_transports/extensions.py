"""
Every ``request.extensions`` / ``response.extensions`` key the layers use, in one place.

Options for one request travel in its extensions, as httpx carries its timeouts;
no layer passes per-request state through globals.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXT_ABORT",
    "EXT_ATTEMPT",
    "EXT_CALL",
    "EXT_DEADLINE",
    "EXT_FIRST_BY",
    "EXT_MAX_ATTEMPTS",
    "EXT_PROVIDER",
    "EXT_RETRY_AFTER",
    "EXT_SENT",
    "EXT_TIMEOUT",
    "EXT_TIMEOUTS",
    "EXT_TOKENS",
    "EXT_TOKEN_RESERVATION",
]

#: Absolute deadline of the whole call on the stack's clock (monotonic seconds), or None.
EXT_DEADLINE: Final = "holysheep.deadline"
#: A stream's first event is due by this absolute time (the ``first_token`` bound of
#: one provider hop): its attempts' headers must arrive before it, and the retry
#: layer gives the provider up rather than start an attempt after it.
EXT_FIRST_BY: Final = "holysheep.first_by"
#: Name of the provider the request is for.
EXT_PROVIDER: Final = "holysheep.provider"
#: 1-based number of the HTTP attempt on this provider, set by the retry layer.
EXT_ATTEMPT: Final = "holysheep.attempt"
#: A `CallRecord` shared by every attempt of one call (attempt counting).
EXT_CALL: Final = "holysheep.call"
#: An `Abort` that stops a hop from another thread (the loser of a sync hedge).
EXT_ABORT: Final = "holysheep.abort"
#: False until the attempt layer hands the request to the pool (no I/O before it).
EXT_SENT: Final = "holysheep.sent"
#: Response extension: the wait in seconds the provider asked for, when it said.
EXT_RETRY_AFTER: Final = "holysheep.retry_after"
#: A `TimeoutConfig` of one call, overriding the stack's ``connect`` and ``per_attempt``.
EXT_TIMEOUTS: Final = "holysheep.timeouts"
#: One call's cap on the attempts per provider (``max_attempts=``).
EXT_MAX_ATTEMPTS: Final = "holysheep.max_attempts"
#: The tokens one attempt reserves of its provider's ``tokens_per_minute``.
EXT_TOKENS: Final = "holysheep.tokens"
#: The `TokenReservation` of the attempt in flight, for the client to settle.
EXT_TOKEN_RESERVATION: Final = "holysheep.token_reservation"
#: httpx's own per-request timeout extension.
EXT_TIMEOUT: Final = "timeout"
