"""
A Hypothesis state machine checks CircuitBreaker against a small reference model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from holysheep_client import BreakerConfig, CircuitOpenError
from holysheep_client._resilience.breaker import CircuitBreaker, Permit
from holysheep_client.testing import FakeClock

FAIL_MAX = 3
RESET = 10.0


@dataclass
class Held:
    permit: Permit
    generation: int
    probe: bool
    done: bool = False


class BreakerMachine(RuleBasedStateMachine):
    """Admissions, verdicts, reports and time, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker = CircuitBreaker(
            "p", BreakerConfig(fail_max=FAIL_MAX, reset_timeout=RESET), clock=self.clock
        )
        # the model
        self.state = "closed"
        self.failures = 0
        self.generation = 0
        self.opened_at = 0.0
        self.probe_out = False
        self.held: list[Held] = []

    # -- model transitions -------------------------------------------------------

    def _to(self, state: str) -> None:
        self.state = state
        self.generation += 1
        self.probe_out = False
        if state == "open":
            self.opened_at = self.clock.monotonic()
        if state == "closed":
            self.failures = 0

    def _success(self) -> None:
        if self.state == "closed":
            self.failures = 0
        elif self.state == "half_open":
            self._to("closed")

    def _failure(self) -> None:
        if self.state == "closed":
            self.failures += 1
            if self.failures >= FAIL_MAX:
                self._to("open")
        elif self.state == "half_open":
            self._to("open")

    def _elapsed(self) -> bool:
        return self.clock.monotonic() >= self.opened_at + RESET

    # -- rules ---------------------------------------------------------------------

    @rule()
    def admit(self) -> None:
        if self.state == "closed":
            expect: bool | None = False
        elif self.state == "open" and self._elapsed():
            self._to("half_open")
            expect = True
        elif self.state == "half_open" and not self.probe_out:
            expect = True
        else:
            expect = None
        if expect is None:
            with pytest.raises(CircuitOpenError):
                self.breaker.admit()
            return
        if expect:
            self.probe_out = True
        permit = self.breaker.admit()
        assert permit.probe is expect
        self.held.append(Held(permit, self.generation, expect))

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data(), outcome=st.sampled_from([True, False, None]))
    def record(self, data: st.DataObject, outcome: bool | None) -> None:
        held = data.draw(st.sampled_from(self.held))
        self.breaker.record(held.permit, outcome)
        if held.done:
            return
        held.done = True
        if held.generation != self.generation:
            return
        if held.probe:
            self.probe_out = False
        if outcome is True:
            self._success()
        elif outcome is False:
            self._failure()

    @rule()
    def report_failure(self) -> None:
        self.breaker.report_failure()
        if self.state != "open":
            self._failure()

    @rule()
    def report_success(self) -> None:
        self.breaker.report_success()
        if self.state != "open":
            self._success()

    @rule(seconds=st.sampled_from([0.5, 3.0, 9.99, 10.0, 25.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def state_matches(self) -> None:
        expected = self.state
        if expected == "open" and self._elapsed():
            expected = "half_open"
        assert self.breaker.state == expected

    @invariant()
    def admission_matches(self) -> None:
        if self.state == "closed":
            expected = True
        elif self.state == "open":
            expected = self._elapsed()
        else:
            expected = not self.probe_out
        assert self.breaker.would_admit() is expected

    @invariant()
    def failures_match(self) -> None:
        if self.state == "closed":
            assert self.breaker.fail_counter == self.failures
            assert self.failures < FAIL_MAX

    @invariant()
    def at_most_one_probe(self) -> None:
        live = [
            h
            for h in self.held
            if h.probe and not h.done and h.generation == self.generation
        ]
        assert len(live) <= 1


BreakerMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_breaker_machine = BreakerMachine.TestCase
