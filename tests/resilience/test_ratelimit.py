"""
RateLimiter: pacing over long virtual runs, the one-second burst, deadlines, cancellation.
"""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from resilience_helpers import Recorder, make_config, request, send, send_sync, stack

from holysheep_client import RateLimitError
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client._resilience.ratelimit import RateLimiter, TokenBucket
from holysheep_client._transports.extensions import EXT_DEADLINE
from holysheep_client.testing import FakeClock


def ok(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={})


@pytest.mark.anyio
async def test_async_pacing_is_within_one_percent_over_a_long_run() -> None:
    """50 tasks sharing a 40/s limiter for 100 virtual seconds get 40/s (within 1%)."""
    clock = FakeClock()
    limiter = RateLimiter("p", 40.0, clock=clock)
    started: list[float] = []

    async def worker() -> None:
        for _ in range(80):
            await limiter.acquire_async()
            started.append(clock.monotonic())

    await asyncio.gather(*(worker() for _ in range(50)))
    assert len(started) == 4000
    elapsed = max(started) - min(started)
    rate = (len(started) - limiter.burst) / elapsed
    assert rate == pytest.approx(40.0, rel=0.01)


@pytest.mark.anyio
async def test_the_burst_is_one_seconds_worth() -> None:
    """After an idle spell, `rate` calls go at once and the next one waits."""
    clock = FakeClock()
    limiter = RateLimiter("p", 10.0, clock=clock)
    waits = [await limiter.acquire_async() for _ in range(10)]
    assert waits == [0.0] * 10
    assert clock.monotonic() == 0.0
    waited = await limiter.acquire_async()
    assert waited == pytest.approx(0.1)
    clock.advance(60.0)
    assert [await limiter.acquire_async() for _ in range(10)] == [0.0] * 10


@pytest.mark.anyio
async def test_rates_below_one_per_second_admit_one_at_a_time() -> None:
    """At 0.5/s the burst is one call and the next waits two seconds."""
    clock = FakeClock()
    limiter = RateLimiter("p", 0.5, clock=clock)
    assert await limiter.acquire_async() == 0.0
    assert await limiter.acquire_async() == pytest.approx(2.0)


@pytest.mark.anyio
async def test_a_wait_past_the_deadline_raises_without_sleeping() -> None:
    """When capacity comes after the deadline, RateLimitError comes at once."""
    clock = FakeClock()
    limiter = RateLimiter("p", 1.0, clock=clock)
    await limiter.acquire_async()
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire_async(deadline=clock.monotonic() + 0.5)
    assert info.value.status_code is None
    assert info.value.provider == "p"
    assert info.value.retry_after == pytest.approx(1.0)
    assert clock.sleeps == []
    assert clock.monotonic() == 0.0


@pytest.mark.anyio
async def test_waiters_ahead_count_against_the_deadline() -> None:
    """With nine callers queued at 10/s, a tenth with 0.5 s left is refused at once."""
    clock = FakeClock(autojump=False)
    limiter = RateLimiter("p", 10.0, clock=clock)
    for _ in range(10):
        await limiter.acquire_async()
    queued = [asyncio.create_task(limiter.acquire_async()) for _ in range(9)]
    await asyncio.sleep(0)
    with pytest.raises(RateLimitError):
        await limiter.acquire_async(deadline=clock.monotonic() + 0.5)
    clock.autojump = True
    for task in queued:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)


@pytest.mark.anyio
async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    """Cancelling a queued caller leaves no reservation behind."""
    clock = FakeClock(autojump=False)
    limiter = RateLimiter("p", 1.0, clock=clock)
    await limiter.acquire_async()
    waiter = asyncio.create_task(limiter.acquire_async())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    clock.advance(1.0)
    assert await limiter.acquire_async() == 0.0
    entry = limiter._for_loop()
    assert entry.waiting == 0


def test_each_event_loop_gets_its_own_limiter() -> None:
    """A limiter used from two event loops builds one aiolimiter per loop, warning-free."""
    limiter = RateLimiter("p", 100.0)

    async def use() -> object:
        await limiter.acquire_async()
        return limiter._for_loop().limiter

    first = asyncio.run(use())
    second = asyncio.run(use())
    assert first is not second
    assert type(first).__name__ == "AsyncLimiter"  # the system clock reads the loop
    assert limiter._clock is SYSTEM_CLOCK


def test_sync_pacing_is_within_one_percent_over_a_long_run() -> None:
    """The sync bucket paces 5000 calls at 25/s within 1%."""
    clock = FakeClock()
    limiter = RateLimiter("p", 25.0, clock=clock)
    started = []
    for _ in range(5000):
        limiter.acquire()
        started.append(clock.monotonic())
    rate = (len(started) - limiter.burst) / (started[-1] - started[0])
    assert rate == pytest.approx(25.0, rel=0.01)


def test_sync_deadline_refusal_takes_nothing() -> None:
    """A refused sync call neither sleeps nor uses up a token."""
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == 0.0
    assert bucket.reserve(deadline=0.1) is None
    assert bucket.reserve(deadline=0.5) == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)  # queued behind the reservation
    assert repr(bucket) == "<TokenBucket rate=2.0 burst=2.0>"


@pytest.mark.anyio
async def test_the_transport_waits_and_reports_it() -> None:
    """The rate-limit layer paces calls and reports each wait to the hooks."""
    clock = FakeClock()
    hooks = Recorder()
    t = stack(make_config(rate=2.0), ok, clock=clock, hooks=[hooks])
    for _ in range(4):
        await send(t)
    assert clock.monotonic() == pytest.approx(1.0)
    assert [w.kind for w in hooks.waits] == ["rate_limit", "rate_limit"]
    with pytest.raises(RateLimitError):
        await send(t, request(**{EXT_DEADLINE: clock.monotonic() + 0.1}))


def test_the_sync_transport_waits_and_refuses() -> None:
    """The sync rate-limit layer sleeps on the clock and refuses past the deadline."""
    clock = FakeClock()
    t = stack(make_config(rate=1.0), ok, clock=clock, sync=True)
    send_sync(t)
    send_sync(t)
    assert clock.sleeps == [pytest.approx(1.0)]
    with pytest.raises(RateLimitError):
        send_sync(t, request(**{EXT_DEADLINE: clock.monotonic() + 0.1}))
    assert "rate=1" in repr(t._ainner._ainner._ainner)
