"""
Migration phases, rollback and hedging settings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from .._utils import parse_duration
from ..errors import ConfigError
from .base import ConfigModel, Duration

__all__ = [
    "COMPARATORS",
    "Comparator",
    "GateConfig",
    "HedgingConfig",
    "MigrationConfig",
    "MigrationPhase",
    "RollbackConfig",
    "ShadowConfig",
]

#: The comparators known by name.
COMPARATORS = ("exact", "normalized_text", "json_fields")

Comparator = (
    Literal["exact", "normalized_text", "json_fields"] | Callable[[Any, Any], float]
)
"""A comparator's name, or a callable ``(source, target) -> float`` in [0, 1]."""

_THRESHOLDS = ("max_error_rate", "max_latency_p95", "min_agreement", "max_cost_ratio")


class MigrationPhase(ConfigModel):
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


class RollbackConfig(ConfigModel):
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


class GateConfig(ConfigModel):
    """
    The bar a migration's target must pass before a phase ends on the clock.

    The gate judges a sliding window of the target's outcomes: the calls whose
    primary draw was the target, and the shadow calls. Set at least one threshold;
    a threshold left at ``None`` is not judged.

    Attributes:
        max_error_rate: The highest share of target outcomes that may be failures.
        max_latency_p95: The highest p95 latency of the target's answers, in seconds.
        min_agreement: The lowest mean agreement of the target's shadow answers with
            the source's (needs ``MigrationConfig.shadow``).
        max_cost_ratio: The highest cost per call of the target over the source's.
        min_samples: Target outcomes the window must hold before the gate can pass.
        window: The sliding window, in seconds.
        on_fail: At the end of a phase the gate fails: ``"hold"`` the phase (judge
            again until it passes) or ``"rollback"`` the target to weight 0.

    .. versionadded:: 0.2.0
    """

    max_error_rate: float | None = Field(None, ge=0, le=1)
    max_latency_p95: Duration | None = Field(None, gt=0)
    min_agreement: float | None = Field(None, ge=0, le=1)
    max_cost_ratio: float | None = Field(None, gt=0)
    min_samples: int = Field(200, ge=1)
    window: Duration = Field(3600.0, gt=0)
    on_fail: Literal["hold", "rollback"] = "hold"

    @model_validator(mode="after")
    def _some_threshold(self) -> Self:
        if all(getattr(self, name) is None for name in _THRESHOLDS):
            raise ConfigError(
                "max_error_rate",
                "no threshold is set; set at least one of " + ", ".join(_THRESHOLDS),
            )
        return self

    @property
    def thresholds(self) -> tuple[str, ...]:
        """
        The names of the thresholds this gate judges, in field order.
        """
        return tuple(n for n in _THRESHOLDS if getattr(self, n) is not None)


class ShadowConfig(ConfigModel):
    """
    Shadow traffic: a sampled share of the source's calls, sent again to the target.

    The caller never waits for a shadow call nor sees its error; its answer is
    compared with the source's and the score feeds the gate's agreement.

    Attributes:
        sample: The share of the calls the source serves that are shadowed, 0 to 1.
        comparator: ``"exact"``, ``"normalized_text"``, ``"json_fields"``, or a
            callable ``(source: ChatResponse, target: ChatResponse) -> float`` in
            [0, 1] (a callable cannot be written out to YAML).
        max_in_flight: Shadow calls at most at once; over that, samples are skipped.
            It is also the shadow pool's connection count: keep it at 32 or below
            on `AsyncClient`, whose event loop the shadow calls share (see
            ``docs/performance.md``).

    .. versionadded:: 0.2.0
    """

    sample: float = Field(0.05, ge=0, le=1)
    comparator: Comparator = "normalized_text"
    max_in_flight: int = Field(8, ge=1, le=10_000)

    @field_validator("comparator", mode="before")
    @classmethod
    def _comparator(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v not in COMPARATORS:
                raise ValueError(
                    "unknown comparator; expected one of "
                    + ", ".join(COMPARATORS)
                    + " or a callable"
                )
            return v
        if not callable(v):
            raise ValueError(
                "expected a comparator name ("
                + ", ".join(COMPARATORS)
                + ") or a callable (source, target) -> float"
            )
        return v


class MigrationConfig(ConfigModel):
    """
    A timed move of traffic from ``source`` to ``target``, with automatic rollback.

    Attributes:
        source: The provider traffic moves away from; it gets ``100 - target weight``.
        target: The provider traffic moves to.
        started_at: When the first phase begins (timezone-aware); ``None``: not started.
        phases: The steps, in order (a phase of weight 0 is a dark launch: the
            target sees shadow traffic only).
        rollback: The rollback rule, or ``None`` for none.
        gate: The bar the target must pass before a phase ends, or ``None``.
        shadow: Shadow traffic to the target, or ``None`` for none.

    .. versionchanged:: 0.2.0
        ``gate`` and ``shadow``.
    """

    source: str
    target: str
    started_at: datetime | None = None
    phases: tuple[MigrationPhase, ...] = Field(min_length=1)
    rollback: RollbackConfig | None = RollbackConfig()
    gate: GateConfig | None = None
    shadow: ShadowConfig | None = None

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
        if (
            self.gate is not None
            and self.gate.min_agreement is not None
            and self.shadow is None
        ):
            raise ConfigError(
                "gate.min_agreement",
                "needs shadow traffic (shadow) to compare the target's answers with",
            )
        return self


class HedgingConfig(ConfigModel):
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
