"""
RetryBudget: a floor, a ratio of recent calls, a sliding window, and outage amplification.
"""

from __future__ import annotations

import httpx2
import pytest
from resilience_helpers import make_config, send, stack

from holysheep_client._resilience.budget import RetryBudget
from holysheep_client._resilience.retry import no_backoff
from holysheep_client._resilience.state import StackState
from holysheep_client.testing import FakeClock


def test_a_quiet_client_can_always_spend_the_floor() -> None:
    """With no calls at all, min_retries retries are still allowed."""
    budget = RetryBudget(0.2, 3, clock=FakeClock())
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    assert budget.retries == 3


def test_retries_are_capped_at_ratio_of_calls_plus_floor() -> None:
    """100 calls at ratio 0.2 plus a floor of 10 allow exactly 30 retries."""
    budget = RetryBudget(0.2, 10, clock=FakeClock())
    for _ in range(100):
        budget.record_call()
    spent = 0
    while budget.try_spend():
        spent += 1
    assert spent == 30
    assert not budget.can_spend()
    assert budget.calls == 100


def test_the_window_slides() -> None:
    """Calls and retries older than the window stop counting."""
    clock = FakeClock()
    budget = RetryBudget(0.5, 0, clock=clock)
    for _ in range(10):
        budget.record_call()
    assert sum(budget.try_spend() for _ in range(10)) == 5
    clock.advance(5.0)
    assert not budget.can_spend()
    clock.advance(5.0)
    assert budget.calls == 0
    assert budget.retries == 0
    assert not budget.can_spend()
    budget.record_call()
    budget.record_call()
    assert budget.try_spend()


def test_a_long_gap_clears_everything() -> None:
    """After an hour of silence the window is empty."""
    clock = FakeClock()
    budget = RetryBudget(1.0, 1, clock=clock)
    for _ in range(50):
        budget.record_call()
        budget.try_spend()
    clock.advance(3600)
    assert (budget.calls, budget.retries) == (0, 0)
    assert repr(budget) == "<RetryBudget ratio=1.0 min_retries=1 window=10.0>"


def test_each_call_leaves_with_its_one_second_bucket() -> None:
    """A call counts until 10 s after the start of its one-second bucket, then drops."""
    clock = FakeClock()
    budget = RetryBudget(0.2, 10, clock=clock)
    for t in (0.0, 0.95, 1.0, 5.5):
        clock.advance(t - clock.monotonic())
        budget.record_call()
    seen = []
    for t in (9.99, 10.0, 10.99, 11.0, 14.99, 15.0):
        clock.advance(t - clock.monotonic())
        seen.append(budget.calls)
    assert seen == [4, 2, 2, 1, 1, 0]


def test_retries_leave_with_their_bucket_and_buckets_are_reused() -> None:
    """Retries drop with their bucket, and a reused bucket starts from zero."""
    clock = FakeClock()
    budget = RetryBudget(0.0, 100, clock=clock)
    assert budget.try_spend() and budget.try_spend()
    clock.advance(1.0)
    assert budget.try_spend()
    clock.advance(9.0)  # t = 10: the first bucket is gone, the next one is 9 s old
    assert budget.retries == 1
    budget.record_call()
    assert budget.try_spend()
    clock.advance(1.0)  # t = 11
    assert (budget.calls, budget.retries) == (1, 1)
    clock.advance(9.0)  # t = 20
    assert (budget.calls, budget.retries) == (0, 0)


@pytest.mark.parametrize("read", ["calls", "retries", "can_spend"])
def test_every_read_rotates_the_window_itself(read: str) -> None:
    """calls, retries and can_spend each drop what left the window before answering."""
    clock = FakeClock()
    budget = RetryBudget(0.0, 1, clock=clock)
    budget.record_call()
    assert budget.try_spend()
    clock.advance(10.0)
    expected = {"calls": 0, "retries": 0, "can_spend": True}[read]
    got = budget.can_spend() if read == "can_spend" else getattr(budget, read)
    assert got == expected


def test_a_clock_below_zero_rotates_like_any_other() -> None:
    """Buckets are floor(t) seconds, so a negative monotonic reading works the same."""
    clock = FakeClock(monotonic=-11.5)
    budget = RetryBudget(0.2, 10, clock=clock)
    budget.record_call()
    clock.advance(9.0)
    assert budget.calls == 1
    clock.advance(1.0)
    assert budget.calls == 0


@pytest.mark.timeout(5)
def test_a_gap_of_decades_costs_one_pass_over_the_buckets() -> None:
    """After 10**12 idle seconds the window is cleared at once, not second by second."""
    clock = FakeClock()
    budget = RetryBudget(0.2, 10, clock=clock)
    budget.record_call()
    clock.advance(1e12)
    assert budget.calls == 0
    budget.record_call()
    assert budget.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("ratio", "ceiling"),
    [
        pytest.param(0.05, 1.10, id="ratio-0.05"),
        pytest.param(0.2, 1.25, id="default-0.2"),
    ],
)
async def test_full_outage_amplification_is_capped(
    ratio: float, ceiling: float
) -> None:
    """At a full outage, attempts per call stay near 1 + ratio over a long run."""
    clock = FakeClock()
    attempts = 0

    def down(req: httpx2.Request) -> httpx2.Response:
        nonlocal attempts
        attempts += 1
        return httpx2.Response(503)

    cfg = make_config(
        retry={"max_attempts": 3, "budget_ratio": ratio, "budget_min_retries": 10},
        breaker={"fail_max": 10**9},
    )
    t = stack(cfg, down, clock=clock)
    calls = 8000
    with no_backoff():
        for _ in range(calls):
            await send(t)
            clock.advance(0.025)  # 40 calls per second for 200 virtual seconds
    amplification = attempts / calls
    assert amplification <= ceiling
    assert amplification >= 1 + ratio * 0.9  # the budget was actually used
    assert amplification < 3  # what max_attempts alone would allow


@pytest.mark.anyio
async def test_the_budget_is_shared_by_every_provider_of_a_client() -> None:
    """Two providers' stacks on one StackState draw on one budget."""
    cfg = make_config(
        retry={"budget_ratio": 0.0, "budget_min_retries": 2},
        providers=("a", "b"),
    )
    clock = FakeClock()
    state = StackState(cfg, clock=clock)
    calls = {"a": 0, "b": 0}

    def handler(name: str):  # type: ignore[no-untyped-def]
        def answer(req: httpx2.Request) -> httpx2.Response:
            calls[name] += 1
            return httpx2.Response(503)

        return answer

    ta = stack(cfg, handler("a"), clock=clock, state=state, provider="a")
    tb = stack(cfg, handler("b"), clock=clock, state=state, provider="b")
    await send(ta)  # 1 call + 2 retries: the floor is spent
    await send(tb)  # no retry left
    assert calls == {"a": 3, "b": 1}
    assert state.budget.retries == 2
