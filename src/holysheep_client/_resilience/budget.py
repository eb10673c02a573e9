"""
RetryBudget: retries may be at most a share of recent calls, plus a small floor.
"""

from __future__ import annotations

import threading

from .._clock import SYSTEM_CLOCK
from .._types import Clock

__all__ = ["RetryBudget"]


class RetryBudget:
    """
    A sliding-window retry budget, one per client (shared by all its providers).

    Retries in the last ``window`` seconds may not exceed ``ratio`` times the calls
    in the same window plus ``min_retries``: a quiet client can always retry, and
    a full outage cannot multiply the load by more than ``1 + ratio`` (plus the
    floor, spread over the window's calls). The window is kept in one-second
    buckets, like Finagle's ``RetryBudget``.

    Shared by every request of a client and guarded by a lock; all methods are
    safe to call from any thread or task and never wait.

    Args:
        ratio: Retries allowed per call in the window.
        min_retries: Retries always allowed per window.
        clock: The time source.
        window: The window in seconds (10 s per the public contract).
    """

    __slots__ = (
        "_calls",
        "_clock",
        "_head",
        "_lock",
        "_retries",
        "_sum_calls",
        "_sum_retries",
        "_width",
        "min_retries",
        "ratio",
        "window",
    )

    def __init__(
        self,
        ratio: float,
        min_retries: int,
        *,
        clock: Clock = SYSTEM_CLOCK,
        window: float = 10.0,
    ) -> None:
        self.ratio = ratio
        self.min_retries = min_retries
        self.window = window
        self._clock = clock
        buckets = 10
        self._width = window / buckets
        self._calls = [0] * buckets
        self._retries = [0] * buckets
        self._sum_calls = 0
        self._sum_retries = 0
        self._head = int(clock.monotonic() // self._width)
        self._lock = threading.Lock()

    def _rotate(self) -> int:
        """Drop buckets that left the window; return the current bucket index."""
        now = int(self._clock.monotonic() // self._width)
        n = len(self._calls)
        steps = now - self._head
        if steps > 0:
            for i in range(1, min(steps, n) + 1):
                idx = (self._head + i) % n
                self._sum_calls -= self._calls[idx]
                self._sum_retries -= self._retries[idx]
                self._calls[idx] = 0
                self._retries[idx] = 0
            self._head = now
        return self._head % n

    def record_call(self) -> None:
        """
        Count one call (the retry layer does this once per request it receives).
        """
        with self._lock:
            if int(self._clock.monotonic() // self._width) == self._head:
                idx = self._head % len(self._calls)  # the common case: same bucket
            else:
                idx = self._rotate()
            self._calls[idx] += 1
            self._sum_calls += 1

    def try_spend(self) -> bool:
        """
        Take one retry (or hedge) from the budget if it allows one.

        Returns:
            True when the retry may go ahead (and was counted), False when spent.
        """
        with self._lock:
            idx = self._rotate()
            if self._sum_retries < self.ratio * self._sum_calls + self.min_retries:
                self._retries[idx] += 1
                self._sum_retries += 1
                return True
            return False

    def can_spend(self) -> bool:
        """
        Whether `try_spend` would succeed now, without spending.
        """
        with self._lock:
            self._rotate()
            return self._sum_retries < self.ratio * self._sum_calls + self.min_retries

    @property
    def calls(self) -> int:
        """
        Calls counted in the current window.
        """
        with self._lock:
            self._rotate()
            return self._sum_calls

    @property
    def retries(self) -> int:
        """
        Retries spent in the current window.
        """
        with self._lock:
            self._rotate()
            return self._sum_retries

    def __repr__(self) -> str:
        return (
            f"<RetryBudget ratio={self.ratio} min_retries={self.min_retries}"
            f" window={self.window}>"
        )
