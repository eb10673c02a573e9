"""
FakeClock: virtual time for tests.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """
    A `Clock` that moves only when told to, or jumps ahead when something sleeps.

    Every sleep is recorded in ``sleeps`` (sync and async alike), so a test can
    assert an exact backoff sequence. ``sleep(s)`` / ``async_sleep(s)`` move the
    clock to ``max(now, t0 + s)`` where ``t0`` is the time the sleep began: two
    tasks that sleep concurrently end at the later of their wake times, never at
    the sum. ``async_sleep`` also yields to the event loop once.

    Args:
        start: The wall-clock time at monotonic 0 (timezone-aware;
            2026-01-01 UTC by default).
        monotonic: The initial monotonic reading.
        autojump: When False, sleeps are recorded but do not move time; use `advance`.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        monotonic: float = 0.0,
        autojump: bool = True,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._origin = monotonic
        self._t = monotonic
        self.autojump = autojump
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """
        The current virtual monotonic time, in seconds.
        """
        return self._t

    def now(self) -> datetime:
        """
        The current virtual wall-clock time (UTC).
        """
        return self._start + timedelta(seconds=self._t - self._origin)

    def advance(self, seconds: float) -> None:
        """
        Move time forward by ``seconds``.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._t += seconds

    def set(self, when: datetime) -> None:
        """
        Move the wall clock (and the monotonic clock with it) forward to ``when``.
        """
        delta = (when - self.now()).total_seconds()
        self.advance(max(delta, 0.0))

    def _jump(self, t0: float, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.autojump:
                self._t = max(self._t, t0 + max(seconds, 0.0))

    def sleep(self, seconds: float) -> None:
        """
        Record the sleep and jump ahead; never blocks.
        """
        self._jump(self._t, seconds)

    async def async_sleep(self, seconds: float) -> None:
        """
        Record the sleep, jump ahead, and yield to the event loop once.
        """
        self._jump(self._t, seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"<FakeClock t={self._t:.3f} sleeps={len(self.sleeps)}>"
