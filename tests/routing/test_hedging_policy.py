"""
The hedging policy on a fake clock: when a hedge starts, when the budget says no,
failover inside the race, and the deadline.
"""

from __future__ import annotations

import pytest

from holysheep_client import APITimeoutError, HedgingConfig, ServerError
from holysheep_client._client.spec import build_spec
from holysheep_client._observe.dispatch import HookDispatcher
from holysheep_client._resilience.budget import RetryBudget
from holysheep_client._routing.failover import FailoverPlan, FailoverPolicy
from holysheep_client._routing.hedging import HedgeRace, hedge_delay
from holysheep_client.testing import FakeClock

SPEC = build_spec(
    [{"role": "user", "content": "x"}],
    model="m", max_tokens=10, temperature=None, stream=False, extra=None,
)  # fmt: skip


def race(
    plan: list[str],
    *,
    clock: FakeClock,
    budget: RetryBudget | None = None,
    deadline: float | None = None,
    max_hedges: int = 1,
) -> tuple[HedgeRace, list[str]]:
    failed: list[str] = []
    walk = FailoverPlan(
        plan,
        SPEC,
        deadline=deadline,
        policy=FailoverPolicy(total=deadline),
        clock=clock,
        hooks=HookDispatcher(),
        on_failure=failed.append,
    )
    budget = budget or RetryBudget(0.2, 10, clock=clock)
    return (
        HedgeRace(
            walk,
            delay=0.5,
            max_hedges=max_hedges,
            budget=budget,
            clock=clock,
            deadline=deadline,
        ),
        failed,
    )


def test_a_late_primary_is_hedged_once_then_waited_for() -> None:
    """After the delay the next provider is started; with no hedge left, waits are open."""
    r, _ = race(["a", "b", "c"], clock=FakeClock())
    assert r.start() == "a"
    assert r.wait() == 0.5
    assert r.timed_out() == "b"
    assert r.wait() is None
    assert r.timed_out() is None


def test_an_empty_budget_starts_no_hedge() -> None:
    """A hedge spends a retry: with the budget spent, the racers are waited for."""
    clock = FakeClock()
    r, _ = race(["a", "b"], clock=clock, budget=RetryBudget(0, 0, clock=clock))
    r.start()
    assert r.timed_out() is None
    assert r.wait() is None


def test_a_failure_fails_over_only_when_nothing_else_runs() -> None:
    """A racer's failure starts the next provider only once no other racer runs."""
    r, failed = race(["a", "b", "c"], clock=FakeClock())
    r.start()
    assert r.timed_out() == "b"
    assert r.failed("a", ServerError("down", status_code=503), running=1) is None
    assert r.failed("b", ServerError("down", status_code=503), running=0) == "c"
    assert failed == ["a", "b"]


def test_the_wait_never_passes_the_deadline() -> None:
    """The race waits at most until the deadline, then raises the call's timeout."""
    clock = FakeClock()
    r, _ = race(["a", "b"], clock=clock, deadline=0.2)
    r.start()
    assert r.wait() == pytest.approx(0.2)
    clock.advance(0.2)
    with pytest.raises(APITimeoutError, match="deadline"):
        r.timed_out()


@pytest.mark.parametrize(
    ("config", "latencies", "expected"),
    [
        pytest.param(None, [], None, id="off"),
        pytest.param(HedgingConfig(delay=0.3), [9.0] * 50, 0.3, id="fixed"),
        pytest.param(
            HedgingConfig(delay="p90", min_samples=5), [0.1], 0.5, id="too-few"
        ),
        pytest.param(
            HedgingConfig(delay="p90", min_samples=5),
            [i / 100 for i in range(100)],
            0.9,
            id="quantile",
        ),
    ],
)
def test_hedge_delay(
    config: HedgingConfig | None, latencies: list[float], expected: float | None
) -> None:
    """The delay is fixed, a quantile of recent latencies, or the fallback until enough."""
    assert hedge_delay(config, latencies) == expected
