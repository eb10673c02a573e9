"""
What callers get back: responses, usage, health.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ._content.blocks import Block, TextBlock, ThinkingBlock, ToolUseBlock

__all__ = [
    "BreakerState",
    "ChatResponse",
    "GateStatus",
    "Health",
    "MigrationStatus",
    "ProviderHealth",
    "ShadowStatus",
    "Usage",
]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class Usage:
    """
    Token counts the provider reported for one call.

    Attributes:
        input_tokens: Every input token, cached ones included, on both protocols
            (the OpenAI and OpenTelemetry convention; Anthropic's count is converted).
        output_tokens: Generated tokens, reasoning included.
        cache_read_input_tokens: The part of ``input_tokens`` read from the cache.
        cache_creation_input_tokens: The part of ``input_tokens`` written to it.
        reasoning_tokens: The part of ``output_tokens`` spent reasoning, when said.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """
    One completed chat call.

    Attributes:
        text: The answer's text (all text blocks joined; the JSON of structured output).
        model: The model id the serving provider reported.
        provider: The name of the provider that served the call.
        usage: Token counts.
        latency_ms: Wall time of the whole call, in milliseconds.
        attempts: Every HTTP attempt of the call, across providers.
        cost_usd: The price of the call in USD, or ``None`` for an unknown model.
        request_id: The provider's request id, when it sent one.
        stop_reason: Why generation stopped, one vocabulary for both protocols:
            ``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``, ``refusal``.
        content: The answer's blocks: `TextBlock`, `ToolUseBlock`, `ThinkingBlock`.
        parsed: With ``response_format``, the validated answer (a model instance, or
            a dict for a schema or ``"json"``).
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
    content: tuple[Block, ...] = ()
    parsed: Any = None

    @property
    def tool_calls(self) -> list[ToolUseBlock]:
        """
        The tool calls of the answer, in order (``[]`` when none).
        """
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    @property
    def reasoning(self) -> str | None:
        """
        The reasoning text, when the provider returned any.
        """
        parts = [b.thinking for b in self.content if isinstance(b, ThinkingBlock)]
        return "".join(parts) if any(parts) else None

    def to_message(self) -> dict[str, Any]:
        """
        The answer as an assistant message, for the next turn of the conversation.

        Its content is the answer's blocks, so tool calls keep their ids and an
        Anthropic thinking block its signature; it encodes for either protocol.
        """
        content: list[Block] = list(self.content) or [TextBlock(self.text)]
        return {"role": "assistant", "content": content}


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
class GateStatus:
    """
    The migration gate's figures over its window, and which thresholds fail.

    Attributes:
        passing: True when every threshold holds and the window has ``min_samples``.
        failing: The failing thresholds by their `GateConfig` field names, in field
            order (``"min_samples"`` while the window holds too few outcomes).
        samples: Target outcomes in the window (primary-drawn and shadow calls).
        error_rate: The share of them that failed, or ``None`` without any.
        latency_p95: The p95 latency of the target's answers in seconds (the upper
            bound of a histogram bucket, at most 4.5% above the exact value).
        agreement: The mean comparator score of the shadow answers, or ``None``.
        cost_ratio: The target's mean cost per call over the source's, or ``None``
            when either is not priced yet.

    .. versionadded:: 0.2.0
    """

    passing: bool
    failing: list[str] = field(default_factory=list)
    samples: int = 0
    error_rate: float | None = None
    latency_p95: float | None = None
    agreement: float | None = None
    cost_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class ShadowStatus:
    """
    Shadow traffic so far (this process's counts).

    Attributes:
        sent: Shadow calls that reached the target (answered or failed).
        skipped: Sampled calls not shadowed: ``max_in_flight`` reached, or the
            target's breaker or rate limit refused them before sending.
        failed: Shadow calls the target failed (each a target failure for the gate).
        cost_usd: What the answered shadow calls cost; counted apart, never in a
            caller's ``cost_usd`` nor in the providers'.

    .. versionadded:: 0.2.0
    """

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """
    Where a migration stands.

    Attributes:
        phase: The current phase's name (``None`` before ``started_at``).
        target_weight: The target's effective weight now.
        rolled_back: True once the rollback rule (or the gate) fired (until
            `set_weights`).
        reason: Why it rolled back, why the phase holds, or why the clock is paused.
        gate: The gate's figures, with a gate configured.
        held_since: When the current phase's time ran out with the gate failing
            (it holds since), or ``None``.
        shadow: Shadow traffic counts, with shadow traffic configured.

    .. versionchanged:: 0.2.0
        ``gate``, ``held_since`` and ``shadow``.
    """

    phase: str | None
    target_weight: float
    rolled_back: bool = False
    reason: str | None = None
    gate: GateStatus | None = None
    held_since: datetime | None = None
    shadow: ShadowStatus | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """
    The client's health: ready while at least one provider's breaker is not open.

    Attributes:
        ready: At least one provider can take a call.
        providers: Each provider's state.
        migration: The migration's status, if one is configured.
        budgets: Tag -> tag value -> USD spent today (UTC), for the tags a budget
            caps (``"*"`` for a budget of the whole client), as this process counted.
    """

    ready: bool
    providers: dict[str, ProviderHealth]
    migration: MigrationStatus | None = None
    budgets: dict[str, dict[str, float]] = field(default_factory=dict)
