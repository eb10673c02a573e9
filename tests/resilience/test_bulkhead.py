"""
Bulkhead: the in-flight ceiling, FIFO hand-over, deadlines, cancellation, streams, threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import httpx2
import pytest
from resilience_helpers import make_config, request, send, send_sync, stack

from holysheep_client import RateLimitError
from holysheep_client._resilience.bulkhead import Bulkhead
from holysheep_client._resilience.state import StackState
from holysheep_client._transports.extensions import EXT_DEADLINE
from holysheep_client.testing import FakeClock


@pytest.mark.anyio
async def test_in_flight_requests_never_exceed_the_ceiling() -> None:
    """200 concurrent calls through a bulkhead of 7 never have more than 7 in flight."""
    clock = FakeClock()
    cfg = make_config(max_concurrent=7)
    state = StackState(cfg, clock=clock)
    inflight = peak = 0

    async def handler(req: httpx2.Request) -> httpx2.Response:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        for _ in range(3):
            await asyncio.sleep(0)
        inflight -= 1
        return httpx2.Response(200, json={})

    t = stack(cfg, handler, clock=clock, state=state)
    await asyncio.gather(*(send(t) for _ in range(200)))
    assert peak == 7
    assert state.bulkhead is not None
    assert (state.bulkhead.in_use, state.bulkhead.waiting) == (0, 0)


@pytest.mark.anyio
async def test_the_ceiling_is_shared_by_all_providers() -> None:
    """Two providers' stacks share one client-wide bulkhead."""
    clock = FakeClock()
    cfg = make_config(max_concurrent=3, providers=("a", "b"))
    state = StackState(cfg, clock=clock)
    inflight = peak = 0

    async def handler(req: httpx2.Request) -> httpx2.Response:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        await asyncio.sleep(0)
        inflight -= 1
        return httpx2.Response(200, json={})

    ta = stack(cfg, handler, clock=clock, state=state, provider="a")
    tb = stack(cfg, handler, clock=clock, state=state, provider="b")
    await asyncio.gather(*(send(t) for t in [ta, tb] * 20))
    assert peak == 3


@pytest.mark.anyio
async def test_a_stream_holds_its_slot_until_the_body_ends() -> None:
    """A streamed response keeps its slot until it is read to the end or closed."""
    clock = FakeClock()
    cfg = make_config(max_concurrent=2)
    state = StackState(cfg, clock=clock)

    class Body(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"data: hi\n\n"

    t = stack(
        cfg, lambda r: httpx2.Response(200, stream=Body()), clock=clock, state=state
    )
    bulkhead = state.bulkhead
    assert bulkhead is not None
    first = await t.handle_async_request(request())
    second = await t.handle_async_request(request())
    assert bulkhead.in_use == 2
    await first.aread()
    assert bulkhead.in_use == 1
    await second.aclose()
    assert bulkhead.in_use == 0


@pytest.mark.anyio
async def test_waiters_are_served_in_order() -> None:
    """A released slot goes to the oldest waiter, not to a newcomer."""
    bulkhead = Bulkhead(1, clock=FakeClock())
    assert await bulkhead.acquire_async() == 0.0
    order: list[int] = []

    async def wait(i: int) -> None:
        await bulkhead.acquire_async()
        order.append(i)

    tasks = [asyncio.create_task(wait(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert bulkhead.waiting == 5
    for _ in range(5):
        assert not bulkhead.try_acquire()  # no barging past the queue
        bulkhead.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    bulkhead.release()
    assert bulkhead.in_use == 0


@pytest.mark.anyio
async def test_a_wait_reaching_the_deadline_raises_locally() -> None:
    """A caller still queued at its deadline gets RateLimitError and leaves the queue."""
    clock = FakeClock()
    cfg = make_config(max_concurrent=1)
    state = StackState(cfg, clock=clock)
    gate = asyncio.Event()

    async def handler(req: httpx2.Request) -> httpx2.Response:
        await gate.wait()
        return httpx2.Response(200, json={})

    t = stack(cfg, handler, clock=clock, state=state)
    holder = asyncio.create_task(send(t))
    await asyncio.sleep(0)
    with pytest.raises(RateLimitError) as info:
        await send(t, request(**{EXT_DEADLINE: clock.monotonic() + 2.0}))
    assert info.value.status_code is None
    assert info.value.provider == "p"
    assert state.bulkhead is not None
    assert state.bulkhead.waiting == 0
    gate.set()
    await holder
    assert state.bulkhead.in_use == 0


@pytest.mark.anyio
async def test_cancellation_releases_every_slot() -> None:
    """Cancelling holders and waiters alike leaves no slot taken and nobody queued."""
    clock = FakeClock()
    cfg = make_config(max_concurrent=3)
    state = StackState(cfg, clock=clock)

    async def handler(req: httpx2.Request) -> httpx2.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    t = stack(cfg, handler, clock=clock, state=state)
    tasks = [asyncio.create_task(send(t)) for _ in range(10)]
    await asyncio.sleep(0.01)
    bulkhead = state.bulkhead
    assert bulkhead is not None
    assert (bulkhead.in_use, bulkhead.waiting) == (3, 7)
    for task in tasks[::2]:
        task.cancel()
    await asyncio.sleep(0.01)
    assert bulkhead.in_use == 3
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert (bulkhead.in_use, bulkhead.waiting) == (0, 0)


@pytest.mark.anyio
async def test_a_slot_handed_over_from_another_thread_arrives() -> None:
    """A release from a worker thread wakes an asyncio waiter on its own loop."""
    bulkhead = Bulkhead(1, clock=FakeClock())
    bulkhead.try_acquire()
    waiter = asyncio.create_task(bulkhead.acquire_async())
    await asyncio.sleep(0)
    thread = threading.Thread(target=bulkhead.release)
    thread.start()
    thread.join()
    await asyncio.wait_for(waiter, 5)
    assert bulkhead.in_use == 1
    assert repr(bulkhead) == "<Bulkhead limit=1 in_use=1 waiting=0>"


def test_threads_never_exceed_the_ceiling() -> None:
    """Eight threads through a sync bulkhead of 3 never have more than 3 in flight."""
    cfg = make_config(max_concurrent=3)
    state = StackState(cfg, clock=FakeClock())
    cond = threading.Condition()
    inflight = peak = 0
    go = threading.Event()

    def handler(req: httpx2.Request) -> httpx2.Response:
        nonlocal inflight, peak
        with cond:
            inflight += 1
            peak = max(peak, inflight)
            cond.notify_all()
        go.wait(10)
        with cond:
            inflight -= 1
        return httpx2.Response(200, json={})

    t = stack(cfg, handler, state=state, sync=True)
    threads = [threading.Thread(target=send_sync, args=(t,)) for _ in range(8)]
    for th in threads:
        th.start()
    bulkhead = state.bulkhead
    assert bulkhead is not None
    with cond:
        assert cond.wait_for(lambda: inflight == 3 and bulkhead.waiting == 5, 10)
    go.set()
    for th in threads:
        th.join(10)
    assert peak == 3
    assert (bulkhead.in_use, bulkhead.waiting) == (0, 0)


def test_sync_callers_past_the_deadline_are_refused_at_once() -> None:
    """A sync caller whose deadline has passed is refused without queueing."""
    clock = FakeClock()
    bulkhead = Bulkhead(1, clock=clock)
    assert bulkhead.acquire() == 0.0
    with pytest.raises(RateLimitError):
        bulkhead.acquire(deadline=clock.monotonic())
    assert bulkhead.waiting == 0
    bulkhead.release()
    assert bulkhead.acquire(deadline=clock.monotonic() + 1) == 0.0
