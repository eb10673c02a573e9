"""
RetryTransport: what is retried, how long it waits, when it gives up, and what it returns.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from resilience_helpers import Recorder, make_config, request, send, send_sync, stack

from holysheep_client import APIConnectionError, APITimeoutError, RetryConfig
from holysheep_client._resilience.backoff import compute_backoff
from holysheep_client._resilience.budget import RetryBudget
from holysheep_client._resilience.retry import RetryTransport, no_backoff
from holysheep_client._resilience.state import StackState
from holysheep_client._transports.extensions import (
    EXT_ATTEMPT,
    EXT_CALL,
    EXT_DEADLINE,
    EXT_FIRST_BY,
    EXT_RETRY_AFTER,
    EXT_SENT,
)
from holysheep_client.testing import FakeClock


class Counter:
    """A handler answering from a list of responses (the last one repeats)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.attempts: list[Any] = []

    def __call__(self, req: httpx2.Request) -> httpx2.Response:
        self.attempts.append(req.extensions.get(EXT_ATTEMPT))
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx2.Response(answer, json={"n": self.calls})
        return answer(req) if callable(answer) else answer


class Tracked(httpx2.AsyncByteStream, httpx2.SyncByteStream):
    """A streamed body that records whether it was closed."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for c in self.chunks:
            yield c
        if self.fail is not None:
            raise self.fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


def expected_backoff(seed: int, retries: int, initial: float = 0.5) -> list[float]:
    rng = random.Random(seed)
    return [
        compute_backoff(n, initial=initial, maximum=8.0, jitter="full", rng=rng)
        for n in range(1, retries + 1)
    ]


@pytest.mark.anyio
async def test_retryable_status_is_retried_with_exact_seeded_backoff() -> None:
    """A 503 is retried max_attempts times with the seeded full-jitter waits."""
    clock = FakeClock()
    handler = Counter(503)
    t = stack(make_config(retry={"max_attempts": 4}), handler, clock=clock, seed=11)
    response = await send(t)
    assert response.status_code == 503
    assert handler.calls == 4
    assert handler.attempts == [1, 2, 3, 4]
    assert clock.sleeps == expected_backoff(11, 3)


@pytest.mark.anyio
async def test_success_after_failures_is_returned() -> None:
    """Two 502s then a 200: the 200 comes back after two retries."""
    handler = Counter(502, 502, 200)
    response = await send(stack(make_config(), handler))
    assert response.status_code == 200
    assert handler.calls == 3


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_caller_errors_are_returned_at_once(status: int) -> None:
    """400/401/403/404/422 are returned after one attempt, even with x-should-retry."""
    handler = Counter(
        httpx2.Response(status, headers={"x-should-retry": "true"}, json={})
    )
    clock = FakeClock()
    response = await send(stack(make_config(), handler, clock=clock))
    assert response.status_code == status
    assert handler.calls == 1
    assert clock.sleeps == []


@pytest.mark.anyio
async def test_x_should_retry_false_stops_a_retryable_status() -> None:
    """x-should-retry: false turns a 503 into a final answer."""
    handler = Counter(httpx2.Response(503, headers={"x-should-retry": "false"}))
    response = await send(stack(make_config(), handler))
    assert response.status_code == 503
    assert handler.calls == 1


@pytest.mark.anyio
async def test_x_should_retry_true_retries_an_unlisted_status() -> None:
    """x-should-retry: true retries a status missing from retry_on_status."""
    handler = Counter(httpx2.Response(501, headers={"x-should-retry": "true"}), 200)
    response = await send(stack(make_config(), handler))
    assert response.status_code == 200
    assert handler.calls == 2


@pytest.mark.anyio
async def test_success_is_never_retried_whatever_the_header_says() -> None:
    """A 200 with x-should-retry: true is returned as is."""
    handler = Counter(httpx2.Response(200, headers={"x-should-retry": "true"}))
    await send(stack(make_config(), handler))
    assert handler.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param({"retry-after": "2"}, 2.0, id="seconds"),
        pytest.param({"retry-after-ms": "1250"}, 1.25, id="milliseconds"),
        pytest.param({"retry-after-ms": "100", "retry-after": "9"}, 0.1, id="ms-first"),
    ],
)
async def test_retry_after_replaces_the_backoff(
    headers: dict[str, str], wait: float
) -> None:
    """The provider's requested wait is slept instead of the jittered backoff."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(429, headers=headers), 200)
    response = await send(stack(make_config(), handler, clock=clock))
    assert response.status_code == 200
    assert clock.sleeps == [pytest.approx(wait)]


@pytest.mark.anyio
async def test_retry_after_http_date_is_measured_on_the_clock() -> None:
    """An HTTP-date Retry-After is the gap between that date and the clock's now."""
    clock = FakeClock()
    when = format_datetime(clock.now() + timedelta(seconds=7), usegmt=True)
    handler = Counter(httpx2.Response(503, headers={"retry-after": when}), 200)
    await send(stack(make_config(), handler, clock=clock))
    assert clock.sleeps == [pytest.approx(7.0)]


@pytest.mark.anyio
async def test_retry_after_above_the_maximum_gives_up_without_sleeping() -> None:
    """A Retry-After above max_retry_after returns the response at once, unslept."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(429, headers={"retry-after": "120"}, json={}))
    t = stack(make_config(retry={"max_retry_after": 60}), handler, clock=clock)
    response = await t.handle_async_request(request())
    assert response.status_code == 429
    assert response.extensions["holysheep.retry_after"] == 120.0
    assert handler.calls == 1
    assert clock.sleeps == []
    await response.aclose()


@pytest.mark.anyio
async def test_retry_after_is_ignored_when_not_respected() -> None:
    """respect_retry_after=False falls back to the jittered backoff."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(429, headers={"retry-after": "120"}), 200)
    cfg = make_config(retry={"respect_retry_after": False})
    await send(stack(cfg, handler, clock=clock, seed=3))
    assert clock.sleeps == expected_backoff(3, 1)


@pytest.mark.anyio
async def test_a_wait_past_the_deadline_gives_up_at_once() -> None:
    """A retry whose wait would end after the deadline is not slept."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(503, headers={"retry-after": "5"}))
    t = stack(make_config(), handler, clock=clock)
    req = request(**{EXT_DEADLINE: clock.monotonic() + 3.0})
    response = await t.handle_async_request(req)
    assert response.status_code == 503
    assert handler.calls == 1
    assert clock.sleeps == []
    await response.aclose()


@pytest.mark.anyio
async def test_connection_errors_are_retried_then_raised_as_ours() -> None:
    """A ConnectError is retried, then raised as APIConnectionError from it."""
    clock = FakeClock()
    handler = Counter(httpx2.ConnectError("refused"))
    t = stack(make_config(), handler, clock=clock)
    with pytest.raises(APIConnectionError) as info:
        await send(t)
    assert type(info.value) is APIConnectionError
    assert isinstance(info.value.__cause__, httpx2.ConnectError)
    assert info.value.provider == "p"
    assert handler.calls == 3
    assert len(clock.sleeps) == 2


@pytest.mark.anyio
async def test_timeouts_are_retried_then_raised_as_api_timeout() -> None:
    """A ReadTimeout is retried and surfaces as APITimeoutError."""
    handler = Counter(httpx2.ReadTimeout("slow"), httpx2.ReadTimeout("slow"), 200)
    response = await send(stack(make_config(), handler))
    assert response.status_code == 200
    handler = Counter(httpx2.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        await send(stack(make_config(), handler))
    assert handler.calls == 3


@pytest.mark.anyio
async def test_a_failed_response_is_closed_before_the_retry() -> None:
    """Every retried response's stream is closed; the returned one is left open."""
    bodies = [Tracked([b"{}"]) for _ in range(3)]
    answers = [httpx2.Response(503, stream=b) for b in bodies]
    handler = Counter(*answers)
    t = stack(make_config(), handler)
    response = await t.handle_async_request(request())
    assert [b.closed for b in bodies] == [True, True, False]
    await response.aclose()
    assert bodies[2].closed


@pytest.mark.anyio
async def test_a_body_error_after_the_headers_is_not_retried() -> None:
    """Once a response is returned, a break while reading it is raised, not retried."""
    body = Tracked([b'{"partial"'], fail=httpx2.ReadError("reset"))
    handler = Counter(httpx2.Response(200, stream=body))
    t = stack(make_config(), handler)
    response = await t.handle_async_request(request())
    with pytest.raises(APIConnectionError) as info:
        await response.aread()
    assert isinstance(info.value.__cause__, httpx2.ReadError)
    assert handler.calls == 1


@pytest.mark.anyio
async def test_attempts_are_counted_on_the_call_record() -> None:
    """The EXT_CALL object's attempts goes up once per HTTP attempt."""

    class Call:
        attempts = 0

    call = Call()
    await send(
        stack(make_config(), Counter(500, 500, 200)), request(**{EXT_CALL: call})
    )
    assert call.attempts == 3


@pytest.mark.anyio
async def test_a_call_record_without_attempts_is_tolerated() -> None:
    """An EXT_CALL object lacking ``attempts`` does not break the call."""
    await send(stack(make_config(), Counter(200)), request(**{EXT_CALL: object()}))


@pytest.mark.anyio
async def test_retry_hooks_report_each_wait() -> None:
    """on_retry sees the attempt, the wait, the reason and the Retry-After."""
    hooks = Recorder()
    handler = Counter(httpx2.Response(429, headers={"retry-after": "1"}), 200)
    await send(stack(make_config(), handler, hooks=[hooks]))
    [retry] = hooks.retries
    assert (retry.provider, retry.attempt, retry.wait, retry.retry_after) == (
        "p",
        1,
        1.0,
        1.0,
    )
    assert retry.reason == "status 429"
    assert [a.status_code for a in hooks.attempts] == [429, 200]
    assert [a.attempt for a in hooks.attempts] == [1, 2]


@pytest.mark.anyio
async def test_no_backoff_skips_sleeps_and_caps_attempts() -> None:
    """no_backoff(attempts=2) retries without sleeping, twice at most, then restores."""
    clock = FakeClock()
    handler = Counter(503)
    t = stack(make_config(retry={"max_attempts": 5}), handler, clock=clock)
    with no_backoff(attempts=2):
        await send(t)
    assert handler.calls == 2
    assert clock.sleeps == []
    await send(t)
    assert handler.calls == 2 + 5
    assert len(clock.sleeps) == 4


def test_no_backoff_nests_and_restores_the_previous_setting() -> None:
    """Leaving an inner no_backoff block puts the outer one back."""
    from holysheep_client._runtime import RUNTIME

    assert RUNTIME.no_backoff is None
    with no_backoff():
        outer = RUNTIME.no_backoff
        with no_backoff(attempts=1):
            assert RUNTIME.no_backoff is not None
            assert RUNTIME.no_backoff.attempts == 1
        assert RUNTIME.no_backoff is outer
    assert RUNTIME.no_backoff is None
    with pytest.raises(ValueError, match="at least 1"), no_backoff(attempts=0):
        pass


@pytest.mark.anyio
async def test_no_backoff_still_gives_up_on_a_too_long_retry_after() -> None:
    """Under no_backoff a Retry-After above the maximum still gives the provider up."""
    handler = Counter(httpx2.Response(503, headers={"retry-after": "600"}))
    with no_backoff():
        await send(stack(make_config(), handler))
    assert handler.calls == 1


def test_sync_stack_retries_with_the_same_waits() -> None:
    """The sync path retries and sleeps exactly like the async one."""
    clock = FakeClock()
    handler = Counter(503, httpx2.ConnectError("refused"), 200)
    t = stack(make_config(), handler, clock=clock, sync=True, seed=5)
    response = send_sync(t)
    assert response.status_code == 200
    assert handler.calls == 3
    assert clock.sleeps == expected_backoff(5, 2)


def test_sync_stack_closes_failed_responses_and_raises_ours() -> None:
    """Sync retries close failed bodies, and a final error is ours."""
    bodies = [Tracked([b"{}"]) for _ in range(2)]
    handler = Counter(*(httpx2.Response(500, stream=b) for b in bodies))
    t = stack(make_config(retry={"max_attempts": 2}), handler, sync=True)
    response = t.handle_request(request())
    assert [b.closed for b in bodies] == [True, False]
    response.close()
    t = stack(make_config(), Counter(httpx2.ReadTimeout("slow")), sync=True)
    with pytest.raises(APITimeoutError):
        send_sync(t)


@pytest.mark.anyio
async def test_retries_stop_once_the_breaker_would_refuse() -> None:
    """When the breaker opens mid-call the last response is returned without a wait."""
    clock = FakeClock()
    handler = Counter(503)
    cfg = make_config(retry={"max_attempts": 5}, breaker={"fail_max": 2})
    response = await send(stack(cfg, handler, clock=clock))
    assert response.status_code == 503
    assert handler.calls == 2
    assert len(clock.sleeps) == 1


def test_repr_shows_config_not_secrets() -> None:
    """The retry layer's repr shows its limits and no key."""
    t = stack(make_config(), Counter(200))
    inner = t._ainner
    assert repr(inner) == "<RetryTransport provider='p' max_attempts=3 max_backoff=8.0>"


class Raises:
    """An inner transport that raises ``exc``, first marking the attempt sent or not."""

    def __init__(self, exc: Exception, sent: bool | None) -> None:
        self.exc = exc
        self.sent = sent
        self.calls = 0

    def _raise(self, req: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        if self.sent is not None:
            req.extensions[EXT_SENT] = self.sent
        raise self.exc

    async def handle_async_request(self, req: httpx2.Request) -> httpx2.Response:
        return self._raise(req)

    def handle_request(self, req: httpx2.Request) -> httpx2.Response:
        return self._raise(req)


def bare_retry(inner: Any, clock: FakeClock, **retry: Any) -> RetryTransport:
    """A RetryTransport alone over ``inner``: no breaker, a roomy budget."""
    return RetryTransport(
        inner,
        provider="p",
        config=RetryConfig(**retry),
        budget=RetryBudget(0.2, 10, clock=clock),
        clock=clock,
        rng=random.Random(0),
    )


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_each_request_counts_one_call_in_the_budget(sync: bool) -> None:
    """A request is recorded once in the client's budget, and each retry spends one."""
    clock = FakeClock()
    cfg = make_config()
    state = StackState(cfg, clock=clock)
    t = stack(cfg, Counter(503), clock=clock, state=state, sync=sync)
    if sync:
        send_sync(t)
    else:
        await send(t)
    assert (state.budget.calls, state.budget.retries) == (1, 2)


@pytest.mark.anyio
async def test_a_spent_budget_gives_the_provider_up_without_sleeping() -> None:
    """With no retry left in the budget, a 503 is returned after one attempt, unslept."""
    clock = FakeClock()
    handler = Counter(503)
    cfg = make_config(retry={"budget_ratio": 0.0, "budget_min_retries": 0})
    response = await send(stack(cfg, handler, clock=clock))
    assert response.status_code == 503
    assert handler.calls == 1
    assert clock.sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("retry_after", "calls"),
    [
        pytest.param("5", 2, id="at-the-maximum-is-slept"),
        pytest.param("5.5", 1, id="above-the-maximum-gives-up"),
    ],
)
async def test_max_retry_after_is_the_longest_wait_still_slept(
    retry_after: str, calls: int
) -> None:
    """A Retry-After equal to max_retry_after is slept; anything above gives up."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(429, headers={"retry-after": retry_after}), 200)
    t = stack(make_config(retry={"max_retry_after": 5}), handler, clock=clock)
    await send(t)
    assert handler.calls == calls
    assert clock.sleeps == ([5.0] if calls == 2 else [])


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bound", [EXT_DEADLINE, EXT_FIRST_BY], ids=["deadline", "first-by"]
)
@pytest.mark.parametrize(
    ("wait", "calls"),
    [
        pytest.param("2.5", 2, id="ends-before-is-slept"),
        pytest.param("3", 1, id="ends-at-gives-up"),
    ],
)
async def test_a_wait_must_end_before_the_bound(
    bound: str, wait: str, calls: int
) -> None:
    """A wait ending exactly at the call's deadline or a stream's first-token bound gives up."""
    clock = FakeClock()
    handler = Counter(httpx2.Response(503, headers={"retry-after": wait}), 200)
    t = stack(make_config(), handler, clock=clock)
    response = await t.handle_async_request(request(**{bound: clock.monotonic() + 3.0}))
    await response.aclose()
    assert handler.calls == calls
    assert response.status_code == (200 if calls == 2 else 503)


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize("status", [400, 404, 503])
async def test_every_error_answer_reports_its_retry_after(
    status: int, sync: bool
) -> None:
    """Any answer from 400 up carries its parsed Retry-After in the response extensions."""
    headers = {"retry-after": "2"}
    t = stack(
        make_config(retry={"max_attempts": 1}),
        Counter(httpx2.Response(status, headers=headers, json={})),
        sync=sync,
    )
    response = send_sync(t) if sync else await send(t)
    assert response.status_code == status
    assert response.extensions[EXT_RETRY_AFTER] == 2.0


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize(
    ("exc", "sent", "calls"),
    [
        pytest.param(APIConnectionError("p"), None, 3, id="unmarked-counts-as-sent"),
        pytest.param(APIConnectionError("p"), True, 3, id="sent"),
        pytest.param(APIConnectionError("p"), False, 1, id="refused-before-any-io"),
        pytest.param(RuntimeError("bug"), True, 1, id="not-a-provider-failure"),
    ],
)
async def test_only_connection_errors_after_sending_are_retried(
    exc: Exception, sent: bool | None, calls: int, sync: bool
) -> None:
    """Errors are retried only when ours and not refused before any I/O (unmarked means sent)."""
    clock = FakeClock()
    inner = Raises(exc, sent)
    t = bare_retry(inner, clock)
    if sync:
        with pytest.raises(type(exc)):
            t.handle_request(request())
    else:
        with pytest.raises(type(exc)):
            await t.handle_async_request(request())
    assert inner.calls == calls


def test_sync_stack_numbers_its_attempts() -> None:
    """The sync path numbers its attempts 1, 2, 3 and counts them on the call record."""

    class Call:
        attempts = 0

    call = Call()
    handler = Counter(500, 500, 200)
    send_sync(stack(make_config(), handler, sync=True), request(**{EXT_CALL: call}))
    assert handler.attempts == [1, 2, 3]
    assert call.attempts == 3


def test_sync_no_backoff_never_sleeps() -> None:
    """Under no_backoff the sync path retries without a single sleep, not even of 0."""
    clock = FakeClock()
    handler = Counter(503)
    t = stack(make_config(), handler, clock=clock, sync=True)
    with no_backoff():
        send_sync(t)
    assert handler.calls == 3
    assert clock.sleeps == []
