"""
Migration phases by the clock, and the error-rate rollback window: pure logic, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from .._config import MigrationConfig, RollbackConfig

__all__ = ["PhasePosition", "RollbackWindow", "phase_at"]


@dataclass(frozen=True, slots=True)
class PhasePosition:
    """
    Where a migration stands at a moment: the phase and the target's weight.
    """

    index: int
    name: str
    weight: float
    ends_in: float | None


def phase_at(migration: MigrationConfig, now: datetime) -> PhasePosition | None:
    """
    The phase in force at ``now``, or ``None`` before ``started_at`` (or when unset).

    Each phase's weight holds for its whole duration (a step, not a ramp); an
    open-ended phase (duration 0) holds forever; after the last finite phase its
    weight holds.
    """
    if migration.started_at is None or now < migration.started_at:
        return None
    elapsed = (now - migration.started_at).total_seconds()
    end = 0.0
    for i, phase in enumerate(migration.phases):
        if phase.duration == 0:
            return PhasePosition(i, phase.name, phase.weight, None)
        end += phase.duration
        if elapsed < end:
            return PhasePosition(i, phase.name, phase.weight, end - elapsed)
    last = migration.phases[-1]
    return PhasePosition(len(migration.phases) - 1, last.name, last.weight, None)


class RollbackWindow:
    """
    The target's outcomes over a sliding window, and the verdict on them.

    Not thread-safe by itself: the router that owns it holds the lock.
    """

    __slots__ = ("_events", "config")

    def __init__(self, config: RollbackConfig) -> None:
        self.config = config
        self._events: deque[tuple[float, bool, float | None]] = deque()

    def record(self, t: float, ok: bool, latency: float | None = None) -> str | None:
        """
        Record one outcome at monotonic time ``t``.

        Returns:
            The reason to roll back now, or ``None``.
        """
        self._events.append((t, ok, latency))
        horizon = t - self.config.window
        while self._events and self._events[0][0] < horizon:
            self._events.popleft()
        n = len(self._events)
        if n < self.config.min_requests:
            return None
        errors = sum(1 for _, good, _ in self._events if not good)
        rate = errors / n
        if rate > self.config.max_error_rate:
            return (
                f"error rate {rate:.1%} over the last {n} calls exceeds"
                f" {self.config.max_error_rate:.1%}"
            )
        ceiling = self.config.max_latency_p95
        if ceiling is not None:
            lat = sorted(x for _, good, x in self._events if good and x is not None)
            if len(lat) >= self.config.min_requests:
                p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)]
                if p95 > ceiling:
                    return f"p95 latency {p95:.3f}s exceeds {ceiling:.3f}s"
        return None

    def clear(self) -> None:
        """
        Forget every outcome.
        """
        self._events.clear()

    def __len__(self) -> int:
        return len(self._events)
