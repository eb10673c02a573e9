"""
A Hypothesis state machine checks the sync token bucket against a GCRA model.
"""

from __future__ import annotations

import bisect

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from holysheep_client._resilience.ratelimit import TokenBucket
from holysheep_client.testing import FakeClock


class BucketMachine(RuleBasedStateMachine):
    """Reservations with and without deadlines, and time passing, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(autojump=False)
        self.rate = 4.0
        self.bucket = TokenBucket(self.rate, clock=self.clock)
        # GCRA: theoretical arrival time, emission interval, burst tolerance.
        self.tat = 0.0
        self.interval = 1.0 / self.rate
        self.tolerance = (self.bucket.burst - 1.0) * self.interval
        self.starts: list[float] = []

    @rule(
        deadline=st.one_of(
            st.none(), st.floats(min_value=0.0, max_value=3.0, allow_nan=False)
        )
    )
    def reserve(self, deadline: float | None) -> None:
        now = self.clock.monotonic()
        absolute = None if deadline is None else now + deadline
        got = self.bucket.reserve(absolute)
        self.tat = max(self.tat, now)
        wait = max(0.0, self.tat - self.tolerance - now)
        if wait > 0 and absolute is not None and now + wait > absolute + 1e-9:
            assert got is None
            return
        if got is None:  # only a rounding hair away from the deadline
            assert absolute is not None
            assert now + wait == pytest.approx(absolute, abs=1e-9)
            return
        assert got == pytest.approx(wait, abs=1e-9)
        self.tat += self.interval
        self.starts.append(now + got)

    @rule(seconds=st.floats(min_value=0.0, max_value=2.0, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def starts_keep_order(self) -> None:
        assert all(
            a <= b + 1e-9 for a, b in zip(self.starts, self.starts[1:], strict=False)
        )

    @invariant()
    def no_window_exceeds_burst_plus_rate(self) -> None:
        starts = sorted(self.starts)
        for window in (0.0, 0.5, 1.0, 2.5):
            for i, t in enumerate(starts):
                count = bisect.bisect_right(starts, t + window + 1e-9) - i
                assert count <= self.bucket.burst + self.rate * window + 1e-6


BucketMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None
)
test_bucket_machine = BucketMachine.TestCase
