"""
build_transport_stack: layer order, deadlines, per-attempt timeouts, mapping, hooks, reprs.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2
import pytest
from resilience_helpers import (
    SECRET,
    Recorder,
    make_config,
    request,
    send,
    send_sync,
    stack,
)

from holysheep_client import APIConnectionError, APITimeoutError, ConfigError
from holysheep_client._resilience.breaker import CircuitBreakerTransport
from holysheep_client._resilience.bulkhead import BulkheadTransport
from holysheep_client._resilience.deadline import DeadlineTransport
from holysheep_client._resilience.ratelimit import RateLimitTransport
from holysheep_client._resilience.retry import RetryTransport
from holysheep_client._resilience.stack import (
    TransportSpec,
    build_transport_stack,
    layer_specs,
)
from holysheep_client._resilience.state import StackState
from holysheep_client._transports.attempt import AttemptTransport
from holysheep_client._transports.extensions import EXT_DEADLINE, EXT_PROVIDER
from holysheep_client.testing import FakeClock
from shells import TEST_DEFAULT_BACKEND


def layers(transport: Any) -> list[Any]:
    chain = []
    while transport is not None:
        chain.append(transport)
        transport = getattr(transport, "_ainner", None)
    return chain


def ok(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={})


def test_layers_are_in_the_documented_order() -> None:
    """Deadline, retry, breaker, rate limit, bulkhead, attempt, then the pool."""
    t = stack(make_config(rate=10.0, max_concurrent=5), ok)
    assert [type(x) for x in layers(t)] == [
        DeadlineTransport,
        RetryTransport,
        CircuitBreakerTransport,
        RateLimitTransport,
        BulkheadTransport,
        AttemptTransport,
        httpx2.MockTransport,
    ]


def test_optional_layers_are_left_out() -> None:
    """No rate limit and no bulkhead configured: no such layers."""
    t = stack(make_config(), ok)
    kinds = [type(x) for x in layers(t)]
    assert RateLimitTransport not in kinds
    assert BulkheadTransport not in kinds


@pytest.mark.skipif(
    TEST_DEFAULT_BACKEND != "aiohttp",
    reason="the shipped default is aiohttp; this run makes httpcore the default",
)
def test_the_pool_is_the_default_inner_transport() -> None:
    """Without ``inner`` the stack ends in our pool: aiohttp's for async stacks,
    httpcore's on request and for sync ones; httpx2 or httpx either way."""
    from holysheep_client._transports.aiohttp_pool import AiohttpPoolTransport
    from holysheep_client._transports.pool import PoolTransport

    cfg = make_config()
    core = cfg.model_copy(
        update={"pool": cfg.pool.model_copy(update={"backend": "httpcore"})}
    )
    for flavor, lib in (("httpx2", httpx2), ("httpx", httpx)):
        t = build_transport_stack(cfg, "p", flavor=flavor)  # type: ignore[arg-type]
        pool = layers(t)[-1]  # it wraps no transport of ours
        assert isinstance(pool, AiohttpPoolTransport) and not pool.sync
        assert pool.flavor == flavor and pool._lib is lib
        t = build_transport_stack(core, "p", flavor=flavor)  # type: ignore[arg-type]
        pool = layers(t)[-2]
        assert isinstance(pool, PoolTransport) and not pool.sync
        assert pool.flavor == flavor and pool._lib is lib
        t = build_transport_stack(cfg, "p", flavor=flavor, sync=True)  # type: ignore[arg-type]
        assert isinstance(layers(t)[-2], PoolTransport) and layers(t)[-2].sync


def test_an_unknown_provider_is_a_config_error() -> None:
    """Asking for a provider the config lacks raises ConfigError."""
    with pytest.raises(ConfigError):
        build_transport_stack(make_config(), "nope", inner=httpx2.MockTransport(ok))


def test_specs_can_be_extended() -> None:
    """layer_specs returns plain specs a caller may add to before wrapping."""
    cfg = make_config()
    state = StackState(cfg)
    specs = layer_specs(cfg, "p", state)

    class Tag:
        def __init__(self, inner: Any, *, label: str) -> None:
            self._ainner = inner
            self.label = label

    specs.insert(0, TransportSpec(Tag, {"label": "outer"}))
    transport: Any = httpx2.MockTransport(ok)
    for spec in reversed(specs):
        transport = spec.build(transport)
    assert transport.label == "outer"
    assert isinstance(transport._ainner, DeadlineTransport)


@pytest.mark.anyio
async def test_total_sets_a_deadline_and_an_existing_one_is_kept() -> None:
    """timeout.total becomes EXT_DEADLINE when absent; a given deadline stays."""
    clock = FakeClock(monotonic=100.0)
    seen: list[Any] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        seen.append((req.extensions[EXT_DEADLINE], req.extensions[EXT_PROVIDER]))
        return httpx2.Response(200, json={})

    t = stack(make_config(timeout={"total": 20}), handler, clock=clock)
    await send(t)
    await send(t, request(**{EXT_DEADLINE: 105.0}))
    assert seen == [(120.0, "p"), (105.0, "p")]


@pytest.mark.anyio
async def test_a_passed_deadline_raises_before_any_io() -> None:
    """A request whose deadline has passed raises APITimeoutError unsent."""
    clock = FakeClock()
    calls = 0

    def handler(req: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(200)

    t = stack(make_config(), handler, clock=clock)
    with pytest.raises(APITimeoutError, match="deadline"):
        await send(t, request(**{EXT_DEADLINE: -1.0}))
    assert calls == 0


@pytest.mark.anyio
async def test_attempt_timeouts_come_from_config_capped_by_the_deadline() -> None:
    """Each attempt gets connect/per_attempt timeouts, none beyond the time left."""
    clock = FakeClock()
    seen: list[dict[str, Any]] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        seen.append(dict(req.extensions["timeout"]))
        return httpx2.Response(200, json={})

    t = stack(
        make_config(timeout={"connect": 5, "per_attempt": 30}), handler, clock=clock
    )
    await send(
        t, request(timeout={"connect": 1, "read": 600, "write": 600, "pool": 600})
    )
    await send(t, request(**{EXT_DEADLINE: 2.0}))
    assert seen == [
        {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0},
        {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0},
    ]


@pytest.mark.anyio
async def test_unbounded_timeouts_are_bounded_by_the_deadline() -> None:
    """With per_attempt=None the deadline still bounds each read."""
    seen: list[dict[str, Any]] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        seen.append(dict(req.extensions["timeout"]))
        return httpx2.Response(200, json={})

    cfg = make_config(timeout={"connect": None, "per_attempt": None})
    t = stack(cfg, handler)
    await send(t, request(**{EXT_DEADLINE: 3.0}))
    await send(t)
    assert seen == [
        {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0},
        {"connect": None, "read": None, "write": None, "pool": None},
    ]


@pytest.mark.anyio
async def test_the_wait_for_headers_is_bounded_by_the_deadline() -> None:
    """An attempt still waiting for headers at the deadline fails with APITimeoutError."""
    from holysheep_client.testing import FakeProvider

    clock = FakeClock()
    hooks = Recorder()
    fake = FakeProvider(api_key=None, clock=clock, latency=60.0)
    cfg = make_config(
        timeout={"per_attempt": 30}, breaker={"fail_max": 1}, retry={"max_attempts": 1}
    )
    state = StackState(cfg, clock=clock)
    t = build_transport_stack(
        cfg, "p", clock=clock, state=state, hooks=[hooks], inner=fake.async_transport()
    )
    start = clock.monotonic()
    with pytest.raises(APITimeoutError):
        await send(t, request(**{EXT_DEADLINE: start + 2.0}))
    assert clock.monotonic() - start == pytest.approx(2.0)
    assert [a.error for a in hooks.attempts] == ["APITimeoutError"]
    assert state.providers["p"].breaker.state == "open"  # the provider did not answer


@pytest.mark.anyio
async def test_an_outside_cancellation_is_not_turned_into_a_timeout() -> None:
    """Cancelling an attempt from outside raises CancelledError, not a timeout."""

    async def hang(req: httpx2.Request) -> httpx2.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    clock = FakeClock()
    t = stack(make_config(), hang, clock=clock)
    call = asyncio.create_task(
        send(t, request(**{EXT_DEADLINE: clock.monotonic() + 2.0}))
    )
    await asyncio.sleep(0)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("upstream", "ours"),
    [
        pytest.param(httpx2.ConnectError("x"), APIConnectionError, id="httpx2-connect"),
        pytest.param(httpx2.ConnectTimeout("x"), APITimeoutError, id="httpx2-timeout"),
        pytest.param(
            httpx2.RemoteProtocolError("x"), APIConnectionError, id="httpx2-proto"
        ),
        pytest.param(httpx.ConnectError("x"), APIConnectionError, id="httpx-connect"),
        pytest.param(httpx.PoolTimeout("x"), APITimeoutError, id="httpx-pool"),
    ],
)
async def test_transport_errors_are_mapped_at_the_pool_boundary(
    upstream: Exception, ours: type[Exception]
) -> None:
    """httpx2 and httpx exceptions surface as ours, chained from the original."""

    def handler(req: httpx2.Request) -> httpx2.Response:
        raise upstream

    t = stack(make_config(retry={"max_attempts": 1}), handler)
    with pytest.raises(ours) as info:
        await send(t)
    assert type(info.value) is ours
    assert info.value.__cause__ is upstream


@pytest.mark.anyio
async def test_httpx_responses_get_an_httpx_body_wrapper() -> None:
    """An httpx (not httpx2) response body is wrapped with httpx's stream base classes."""

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"{}"
            raise httpx.ReadError("reset")

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body())

    cfg = make_config()
    t = build_transport_stack(cfg, "p", inner=httpx.MockTransport(handler))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=t) as client:  # type: ignore[arg-type]
        with pytest.raises(APIConnectionError) as info:
            await client.post("http://127.0.0.1:9/v1/messages", json={})
    assert isinstance(info.value.__cause__, httpx.ReadError)


@pytest.mark.anyio
async def test_the_stack_works_inside_an_httpx2_client() -> None:
    """httpx2.AsyncClient drives the stack, enters and closes it."""
    async with httpx2.AsyncClient(transport=stack(make_config(), ok)) as client:  # type: ignore[arg-type]
        response = await client.get("http://127.0.0.1:9/v1/models")
    assert response.status_code == 200
    with httpx2.Client(transport=stack(make_config(), ok, sync=True)) as sync_client:  # type: ignore[arg-type]
        assert sync_client.get("http://127.0.0.1:9/v1/models").status_code == 200


@pytest.mark.anyio
async def test_attempt_hooks_and_the_log_line_carry_no_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each attempt is reported once (hook and INFO line), without the key."""
    clock = FakeClock()
    hooks = Recorder()
    answers = iter([httpx2.ConnectError(f"failed with {SECRET}"), None])

    def handler(req: httpx2.Request) -> httpx2.Response:
        error = next(answers)
        if error is not None:
            raise error
        return httpx2.Response(200, json={})

    t = stack(make_config(), handler, clock=clock, hooks=[hooks])
    with caplog.at_level(logging.INFO, logger="holysheep_client"):
        await send(t)
    assert [(a.attempt, a.status_code, a.error) for a in hooks.attempts] == [
        (1, None, "APIConnectionError"),
        (2, 200, None),
    ]
    assert hooks.attempts[0].method == "POST"
    assert hooks.attempts[0].url == "http://127.0.0.1:9/v1/messages"
    lines = [r.getMessage() for r in caplog.records if r.name == "holysheep_client"]
    assert sum("HTTP Request:" in line for line in lines) == 2
    assert all(SECRET not in line for line in lines)
    assert all(SECRET not in repr(a) for a in hooks.attempts)


def test_reprs_show_config_and_never_the_key() -> None:
    """Every layer and the shared state have a config repr with no key in it."""
    cfg = make_config(rate=5.0, max_concurrent=4)
    state = StackState(cfg)
    t = build_transport_stack(cfg, "p", state=state)
    texts = [repr(x) for x in layers(t)[:-1]] + [
        repr(state),
        repr(state.providers["p"]),
        repr(state.budget),
        repr(state.bulkhead),
        repr(state.providers["p"].limiter),
    ]
    assert texts[0] == "<DeadlineTransport provider='p' total=None>"
    assert texts[1] == "<RetryTransport provider='p' max_attempts=3 max_backoff=8.0>"
    assert "fail_max=10" in texts[2]
    assert texts[-1] == "<RateLimiter provider='p' rate=5 burst=5>"
    assert all(SECRET not in text for text in texts)


def test_sync_stack_sends_and_maps() -> None:
    """The sync stack returns responses and maps errors like the async one."""
    assert send_sync(stack(make_config(), ok, sync=True)).status_code == 200

    def handler(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow")

    with pytest.raises(APITimeoutError):
        send_sync(stack(make_config(retry={"max_attempts": 1}), handler, sync=True))


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    """import holysheep_client loads neither pybreaker, aiolimiter nor an SDK."""
    code = (
        "import sys, holysheep_client\n"
        "heavy = ['pybreaker', 'aiolimiter', 'anthropic', 'openai']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
