"""
Migration phases, rollback and hedging settings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator

from .._utils import parse_duration
from ..errors import ConfigError
from .base import ConfigModel, Duration

__all__ = ["HedgingConfig", "MigrationConfig", "MigrationPhase", "RollbackConfig"]


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


class MigrationConfig(ConfigModel):
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
