"""
What callers get back: responses, usage, health.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BreakerState",
    "ChatResponse",
    "Health",
    "MigrationStatus",
    "ProviderHealth",
    "Usage",
]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class Usage:
    """
    Token counts the provider reported for one call.
    """

    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """
    One completed chat call.

    Attributes:
        text: The answer's text (all text blocks joined).
        model: The model id the serving provider reported.
        provider: The name of the provider that served the call.
        usage: Token counts.
        latency_ms: Wall time of the whole call, in milliseconds.
        attempts: Every HTTP attempt of the call, across providers.
        cost_usd: The price of the call in USD, or ``None`` for an unknown model.
        request_id: The provider's request id, when it sent one.
        stop_reason: Why generation stopped, in the Anthropic vocabulary
            (``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``, ...).
    """

    text: str
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    attempts: int = 1
    cost_usd: float | None = None
    request_id: str | None = None
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """
    One provider's state as `health()` sees it.
    """

    breaker: BreakerState
    weight: float
    rolled_back: bool = False
    requests: int = 0
    errors: int = 0
    cost_usd: float = 0.0
    cost_cny: float = 0.0


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """
    Where a migration stands.

    Attributes:
        phase: The current phase's name (``None`` before ``started_at``).
        target_weight: The target's effective weight now.
        rolled_back: True once the rollback rule fired (until `set_weights`).
        reason: Why it rolled back, or why the clock is paused.
    """

    phase: str | None
    target_weight: float
    rolled_back: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """
    The client's health: ready while at least one provider's breaker is not open.
    """

    ready: bool
    providers: dict[str, ProviderHealth]
    migration: MigrationStatus | None = None
