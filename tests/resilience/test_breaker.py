"""
CircuitBreaker and its transport: tripping, one half-open probe, recovery, cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import httpx2
import pytest
from resilience_helpers import Recorder, make_config, request, send, send_sync, stack

from holysheep_client import (
    APIConnectionError,
    APITimeoutError,
    CircuitOpenError,
    RateLimitError,
)
from holysheep_client._observe.dispatch import as_dispatcher
from holysheep_client._resilience.breaker import CircuitBreaker, CircuitBreakerTransport
from holysheep_client._resilience.state import StackState
from holysheep_client._transports.extensions import EXT_DEADLINE, EXT_SENT
from holysheep_client.testing import FakeClock


def setup(
    fail_max: int = 3, reset: float = 30.0, **kw: Any
) -> tuple[FakeClock, StackState, Recorder, Any]:
    clock = FakeClock()
    hooks = Recorder()
    cfg = make_config(
        retry={"max_attempts": 1},
        breaker={"fail_max": fail_max, "reset_timeout": reset},
        **kw,
    )
    state = StackState(cfg, clock=clock, hooks=[hooks])
    return clock, state, hooks, cfg


class Switch:
    """A handler whose status can be changed, counting calls."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls = 0

    def __call__(self, req: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        return httpx2.Response(self.status, json={})


@pytest.mark.anyio
async def test_opens_on_exactly_the_fail_max_th_failure() -> None:
    """fail_max - 1 failures keep it closed; the fail_max-th opens it."""
    clock, state, hooks, cfg = setup(fail_max=3)
    handler = Switch(503)
    t = stack(cfg, handler, clock=clock, state=state)
    breaker = state.providers["p"].breaker
    for expected in (1, 2):
        await send(t)
        assert breaker.state == "closed"
        assert breaker.fail_counter == expected
    await send(t)
    assert breaker.state == "open"
    assert hooks.breakers == [("closed", "open")]


@pytest.mark.anyio
async def test_open_breaker_refuses_without_any_io() -> None:
    """While open, calls raise CircuitOpenError and the transport is never called."""
    clock, state, _, cfg = setup(fail_max=1, reset=30.0)
    handler = Switch(500)
    t = stack(cfg, handler, clock=clock, state=state)
    await send(t)
    clock.advance(10.0)
    for _ in range(20):
        with pytest.raises(CircuitOpenError) as info:
            await send(t)
    assert handler.calls == 1
    assert info.value.provider == "p"
    assert info.value.retry_in == pytest.approx(20.0)
    assert not state.providers["p"].breaker.would_admit()


@pytest.mark.anyio
async def test_a_success_resets_the_consecutive_count() -> None:
    """Failures must be consecutive: a success in between starts over."""
    clock, state, _, cfg = setup(fail_max=2)
    handler = Switch(503)
    t = stack(cfg, handler, clock=clock, state=state)
    await send(t)
    handler.status = 200
    await send(t)
    handler.status = 503
    await send(t)
    assert state.providers["p"].breaker.state == "closed"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429])
async def test_caller_errors_and_429_are_not_failures(status: int) -> None:
    """4xx answers, 429 included, never trip the breaker."""
    clock, state, _, cfg = setup(fail_max=1)
    t = stack(cfg, Switch(status), clock=clock, state=state)
    for _ in range(5):
        await send(t)
    assert state.providers["p"].breaker.state == "closed"


@pytest.mark.anyio
async def test_connection_errors_and_timeouts_are_failures() -> None:
    """A ConnectError and a ReadTimeout each count as one failure."""
    clock, state, _, cfg = setup(fail_max=2)
    answers = iter([httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow")])

    def handler(req: httpx2.Request) -> httpx2.Response:
        raise next(answers)

    t = stack(cfg, handler, clock=clock, state=state)
    for _ in range(2):
        with pytest.raises(APIConnectionError):
            await send(t)
    assert state.providers["p"].breaker.state == "open"


@pytest.mark.anyio
async def test_half_open_admits_exactly_one_probe_among_many() -> None:
    """After reset_timeout, of 50 concurrent callers exactly one reaches the provider."""
    clock, state, hooks, cfg = setup(fail_max=1, reset=30.0)
    release = asyncio.Event()
    calls = 0
    failing = True

    async def handler(req: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        if failing:
            return httpx2.Response(500)
        await release.wait()
        return httpx2.Response(200, json={})

    t = stack(cfg, handler, clock=clock, state=state)
    await send(t)
    failing = False
    calls = 0
    clock.advance(30.0)
    breaker = state.providers["p"].breaker
    assert breaker.state == "half_open"
    assert breaker.would_admit()

    async def call() -> str:
        try:
            await send(t)
        except CircuitOpenError:
            return "refused"
        return "ok"

    tasks = [asyncio.create_task(call()) for _ in range(50)]
    await asyncio.sleep(0.01)
    assert calls == 1
    assert not breaker.would_admit()
    release.set()
    results = await asyncio.gather(*tasks)
    assert results.count("ok") == 1
    assert results.count("refused") == 49
    assert breaker.state == "closed"
    assert hooks.breakers == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    await send(t)
    assert calls == 2


@pytest.mark.anyio
async def test_a_failed_probe_reopens_for_another_reset_timeout() -> None:
    """A failing probe re-opens the breaker and restarts the reset timer."""
    clock, state, hooks, cfg = setup(fail_max=1, reset=30.0)
    handler = Switch(503)
    t = stack(cfg, handler, clock=clock, state=state)
    await send(t)
    clock.advance(30.0)
    await send(t)
    assert hooks.breakers == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
    ]
    clock.advance(29.0)
    with pytest.raises(CircuitOpenError):
        await send(t)
    clock.advance(1.0)
    handler.status = 200
    await send(t)
    assert state.providers["p"].breaker.state == "closed"
    assert handler.calls == 3


@pytest.mark.anyio
async def test_a_cancelled_probe_leaves_no_trace() -> None:
    """Cancelling the probe raises CancelledError, counts nothing, and frees the slot."""
    clock, state, hooks, cfg = setup(fail_max=1, reset=5.0)
    hang = True

    async def handler(req: httpx2.Request) -> httpx2.Response:
        if hang:
            await asyncio.Event().wait()
        return httpx2.Response(200, json={})

    breaker = state.providers["p"].breaker
    t = stack(cfg, handler, clock=clock, state=state)
    breaker.report_failure()
    assert breaker.state == "open"
    clock.advance(5.0)
    probe = asyncio.create_task(send(t))
    await asyncio.sleep(0.01)
    with pytest.raises(CircuitOpenError):
        await send(t)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.state == "half_open"
    assert breaker.would_admit()
    hang = False
    await send(t)
    assert breaker.state == "closed"
    assert hooks.breakers == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


@pytest.mark.anyio
async def test_cancelled_calls_are_not_failures() -> None:
    """Cancelling calls in the closed state never moves the failure counter."""
    clock, state, _, cfg = setup(fail_max=1)

    async def handler(req: httpx2.Request) -> httpx2.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    t = stack(cfg, handler, clock=clock, state=state)
    tasks = [asyncio.create_task(send(t)) for _ in range(10)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    breaker = state.providers["p"].breaker
    assert (breaker.state, breaker.fail_counter) == ("closed", 0)


@pytest.mark.anyio
async def test_results_admitted_before_a_transition_cause_none() -> None:
    """Stragglers from before the breaker opened neither re-trip nor close it."""
    clock, state, hooks, cfg = setup(fail_max=2, reset=30.0)
    gates: list[asyncio.Event] = []
    statuses: list[int] = []

    async def handler(req: httpx2.Request) -> httpx2.Response:
        gate = asyncio.Event()
        gates.append(gate)
        await gate.wait()
        return httpx2.Response(statuses.pop(0), json={})

    t = stack(cfg, handler, clock=clock, state=state)
    tasks = [asyncio.create_task(send(t)) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert len(gates) == 5
    statuses[:] = [500, 500, 500, 200, 200]
    for gate in gates:
        gate.set()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    breaker = state.providers["p"].breaker
    assert breaker.state == "open"
    assert hooks.breakers == [("closed", "open")]


@pytest.mark.anyio
async def test_a_body_broken_after_the_headers_is_a_failure() -> None:
    """A 200 whose body breaks while read counts as a failure (and raises ours)."""
    clock, state, _, cfg = setup(fail_max=1)

    class Broken(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"content": ['
            raise httpx2.RemoteProtocolError("peer closed connection")

    t = stack(
        cfg, lambda r: httpx2.Response(200, stream=Broken()), clock=clock, state=state
    )
    response = await t.handle_async_request(request())
    assert state.providers["p"].breaker.state == "closed"
    with pytest.raises(APIConnectionError):
        await response.aread()
    assert state.providers["p"].breaker.state == "open"


@pytest.mark.anyio
async def test_a_body_closed_early_is_no_verdict() -> None:
    """A 2xx probe whose body is closed unread frees the probe without a verdict."""
    clock, state, _, cfg = setup(fail_max=1, reset=1.0)

    class Slow(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"data: 1\n\n"

    t = stack(
        cfg, lambda r: httpx2.Response(200, stream=Slow()), clock=clock, state=state
    )
    breaker = state.providers["p"].breaker
    breaker.report_failure()
    clock.advance(1.0)
    response = await t.handle_async_request(request())
    assert not breaker.would_admit()
    await response.aclose()
    assert breaker.state == "half_open"
    assert breaker.would_admit()


@pytest.mark.anyio
async def test_a_deferred_body_is_judged_by_its_reader() -> None:
    """A reader that defers the verdict decides it: bad opens the breaker, good closes it."""
    from holysheep_client._transports.observed import observed

    clock, state, hooks, cfg = setup(fail_max=1, reset=10.0)

    class Body(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"data: 1\n\n"

    t = stack(
        cfg, lambda r: httpx2.Response(200, stream=Body()), clock=clock, state=state
    )
    breaker = state.providers["p"].breaker

    async def read(verdict: bool) -> None:
        response = await t.handle_async_request(request())
        body = observed(response)
        assert body is not None
        body.defer()
        while await body.read_async() is not None:
            pass
        assert breaker.state == ("closed" if verdict is False else "half_open")
        body.settle(verdict)
        await response.aclose()

    await read(False)  # read to the end, yet judged bad (say, no end marker)
    assert breaker.state == "open"
    clock.advance(10.0)
    await read(True)
    assert breaker.state == "closed"
    assert hooks.breakers == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


@pytest.mark.anyio
async def test_local_refusals_are_not_failures() -> None:
    """Deadline and rate-limit refusals happen before any I/O: they are no verdict."""
    clock = FakeClock()

    class LateHook(Recorder):
        """Lets the deadline pass while a call waited for the rate limit."""

        def on_rate_limit_wait(self, details: Any) -> None:
            clock.advance(10.0)

    cfg = make_config(retry={"max_attempts": 1}, breaker={"fail_max": 1}, rate=1.0)
    state = StackState(cfg, clock=clock)
    handler = Switch(200)
    t = stack(cfg, handler, clock=clock, state=state, hooks=[LateHook()])
    with pytest.raises(APITimeoutError):  # the deadline layer
        await send(t, request(**{EXT_DEADLINE: clock.monotonic() - 1}))
    await send(t)  # takes the one-request burst
    with pytest.raises(RateLimitError) as info:  # the next token is 1 s away
        await send(t, request(**{EXT_DEADLINE: clock.monotonic() + 0.5}))
    assert info.value.status_code is None
    with pytest.raises(APITimeoutError):  # waited 1 s, then found the deadline gone
        await send(t, request(**{EXT_DEADLINE: clock.monotonic() + 5.0}))
    breaker = state.providers["p"].breaker
    assert (breaker.state, breaker.fail_counter) == ("closed", 0)
    assert handler.calls == 1


def test_permits_are_recorded_once() -> None:
    """Recording the same permit twice counts it once."""
    clock = FakeClock()
    cfg = make_config(breaker={"fail_max": 2})
    breaker = CircuitBreaker("p", cfg.circuit_breaker, clock=clock)
    permit = breaker.admit()
    breaker.record(permit, False)
    breaker.record(permit, False)
    assert breaker.fail_counter == 1
    assert "fail_max=2" in repr(breaker)
    assert repr(permit).startswith("<Permit")


def test_sync_stack_trips_and_refuses() -> None:
    """The sync path counts failures and refuses while open."""
    clock, state, _, cfg = setup(fail_max=2)
    handler = Switch(502)
    t = stack(cfg, handler, clock=clock, state=state, sync=True)
    send_sync(t)
    send_sync(t)
    with pytest.raises(CircuitOpenError):
        send_sync(t)
    assert handler.calls == 2


class RaisesUnsent:
    """An inner transport that fails without sending: it leaves EXT_SENT as it is."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def handle_async_request(self, req: httpx2.Request) -> httpx2.Response:
        raise self.exc

    def handle_request(self, req: httpx2.Request) -> httpx2.Response:
        raise self.exc


def opened(reset: float = 10.0) -> tuple[FakeClock, CircuitBreaker, Recorder]:
    """A breaker of fail_max 1 that has just opened."""
    clock = FakeClock()
    hooks = Recorder()
    breaker = CircuitBreaker(
        "p",
        make_config(breaker={"fail_max": 1, "reset_timeout": reset}).circuit_breaker,
        clock=clock,
        hooks=as_dispatcher([hooks]),
    )
    breaker.report_failure()
    return clock, breaker, hooks


def test_closed_admits_ordinary_calls_and_half_open_one_probe() -> None:
    """Closed permits are not probes; after reset_timeout the one permit is the probe."""
    clock, breaker, hooks = opened(reset=10.0)
    clock.advance(10.0)
    probe = breaker.admit()
    assert probe.probe
    assert hooks.breakers == [("closed", "open"), ("open", "half_open")]
    with pytest.raises(CircuitOpenError):
        breaker.admit()
    probe(True)
    assert breaker.state == "closed"
    assert breaker.would_admit()
    assert [breaker.admit().probe for _ in range(3)] == [False, False, False]


def test_a_probe_failing_late_reopens_from_its_failure() -> None:
    """The reset timer restarts when the probe fails, not when it was admitted."""
    clock, breaker, _ = opened(reset=10.0)
    clock.advance(10.0)
    probe = breaker.admit()
    clock.advance(5.0)
    probe(False)
    clock.advance(9.0)
    assert breaker.state == "open"
    assert not breaker.would_admit()
    clock.advance(1.0)
    assert breaker.state == "half_open"


def test_a_call_that_raced_a_close_is_admitted_as_an_ordinary_call() -> None:
    """A caller that saw half-open but finds the breaker closed under the lock is no probe."""
    clock, breaker, _ = opened()
    clock.advance(10.0)
    probe = breaker.admit()
    real = breaker._lock

    class Racing:
        """The lock, but the probe succeeds just before the second caller gets it."""

        def __init__(self) -> None:
            self.raced = False

        def __enter__(self) -> bool:
            if not self.raced:
                self.raced = True
                breaker._lock = real
                probe(True)
            return real.__enter__()

        def __exit__(self, *exc: object) -> None:
            real.__exit__(*exc)

    breaker._lock = Racing()  # type: ignore[assignment]
    permit = breaker.admit()
    assert breaker.state == "closed"
    assert permit.probe is False
    permit(False)  # a permit of the closed breaker: its verdict counts
    assert breaker.fail_counter == 1


@pytest.mark.parametrize(
    ("report", "state", "transitions"),
    [
        pytest.param("failure", "open", [("half_open", "open")], id="failure-reopens"),
        pytest.param(
            "success", "closed", [("half_open", "closed")], id="success-closes"
        ),
    ],
)
def test_reports_move_a_half_open_breaker_and_tell_the_hooks_at_once(
    report: str, state: str, transitions: list[tuple[str, str]]
) -> None:
    """report_failure / report_success judge a half-open breaker and flush the hooks."""
    clock, breaker, hooks = opened()
    clock.advance(10.0)
    breaker.admit()
    getattr(breaker, f"report_{report}")()
    assert breaker.state == state
    assert hooks.breakers[2:] == transitions


@pytest.mark.parametrize("report", ["failure", "success"])
def test_reports_while_open_change_nothing(report: str) -> None:
    """A report while open neither closes it nor restarts the reset timer."""
    clock, breaker, hooks = opened(reset=10.0)
    clock.advance(5.0)
    getattr(breaker, f"report_{report}")()
    assert breaker.state == "open"
    clock.advance(5.0)
    assert breaker.state == "half_open"
    assert hooks.breakers == [("closed", "open")]


def test_report_failure_tells_the_hooks_at_once() -> None:
    """The transition a report causes reaches the hooks before report_failure returns."""
    _, breaker, hooks = opened()
    assert hooks.breakers == [("closed", "open")]


def test_successes_while_closed_never_reach_pybreaker() -> None:
    """The hot path: a success with no failure counted does not call pybreaker at all."""
    breaker = CircuitBreaker("p", make_config().circuit_breaker, clock=FakeClock())
    with mock.patch.object(breaker._cb, "call", wraps=breaker._cb.call) as call:
        for _ in range(3):
            breaker.admit()(True)
        breaker.report_success()
        assert call.call_count == 0
        breaker.admit()(False)
        breaker.admit()(True)
        assert call.call_count == 2
        breaker.admit()(True)
        assert call.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_each_attempt_starts_unsent(sync: bool) -> None:
    """An attempt refused before I/O is no verdict, even if an earlier attempt was sent."""
    clock = FakeClock()
    breaker = CircuitBreaker(
        "p", make_config(breaker={"fail_max": 1}).circuit_breaker, clock=clock
    )
    t = CircuitBreakerTransport(RaisesUnsent(APITimeoutError("p")), breaker=breaker)
    req = request(**{EXT_SENT: True})  # as a previous attempt left it
    if sync:
        with pytest.raises(APITimeoutError):
            t.handle_request(req)
    else:
        with pytest.raises(APITimeoutError):
            await t.handle_async_request(req)
    assert req.extensions[EXT_SENT] is False
    assert (breaker.state, breaker.fail_counter) == ("closed", 0)


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_sent_connection_error_is_a_failure(sync: bool) -> None:
    """A connection error after the attempt was sent opens a breaker of fail_max 1."""
    clock, state, _, cfg = setup(fail_max=1)

    def handler(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")

    t = stack(cfg, handler, clock=clock, state=state, sync=sync)
    if sync:
        with pytest.raises(APIConnectionError):
            send_sync(t)
    else:
        with pytest.raises(APIConnectionError):
            await send(t)
    assert state.providers["p"].breaker.state == "open"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "state"),
    [
        pytest.param(200, "half_open", id="200-waits-for-its-body"),
        pytest.param(299, "half_open", id="299-waits-for-its-body"),
        pytest.param(300, "closed", id="300-is-judged-at-once"),
    ],
)
async def test_only_2xx_answers_wait_for_their_body(status: int, state: str) -> None:
    """A 2xx probe closed unread is no verdict; a 3xx is judged by its status at once."""
    clock, state_, _, cfg = setup(fail_max=1, reset=1.0)

    class Body(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"{}"

    t = stack(
        cfg, lambda r: httpx2.Response(status, stream=Body()), clock=clock, state=state_
    )
    breaker = state_.providers["p"].breaker
    breaker.report_failure()
    clock.advance(1.0)
    response = await t.handle_async_request(request())
    await response.aclose()
    assert breaker.state == state
