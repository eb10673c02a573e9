"""
The aiohttp pool backend: its limits, its error table, streaming and its bounds.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import aiohttp.client_exceptions
import aiohttp.http_exceptions
import httpx
import httpx2
import pytest

from holysheep_client import (
    APIConnectionError,
    APITimeoutError,
    ClientConfig,
    PoolConfig,
    ProviderConfig,
    RetryConfig,
    TimeoutConfig,
    errors,
)
from holysheep_client._resilience.stack import build_transport_stack
from holysheep_client._transports.aiohttp_errors import library_error, upstream_pairs
from holysheep_client._transports.aiohttp_pool import AiohttpPoolTransport
from holysheep_client._transports.aiohttp_timers import Expiry
from holysheep_client._transports.pool import PoolTransport, build_pool_transport
from holysheep_client.testing import DEFAULT_API_KEY, FakeServer, Fault

BODY = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"}
AIOHTTP = PoolConfig(backend="aiohttp")


def _aiohttp_classes() -> list[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for mod in (aiohttp.client_exceptions, aiohttp.http_exceptions):
        for obj in vars(mod).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == mod.__name__
            ):
                found.add(obj)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _make(cls: type[BaseException]) -> BaseException:
    try:
        return cls("boom sk-secret")
    except Exception:
        return cls.__new__(cls)


# -- unit --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_aiohttp_pool_carries_the_pool_limits() -> None:
    """backend='aiohttp' gives aiohttp's connector with our limits and keep-alive."""
    pool = PoolConfig(
        backend="aiohttp",
        max_connections=7,
        max_keepalive_connections=3,
        keepalive_expiry=9,
    )
    transport = build_pool_transport(pool)
    assert isinstance(transport, AiohttpPoolTransport)
    assert repr(transport) == (
        "<AiohttpPoolTransport flavor=httpx2 max_connections=7"
        " max_keepalive_connections=3>"
    )
    connector = transport._open().connector
    assert (connector.limit, connector.limit_per_host) == (7, 0)
    assert (connector.max_idle, connector.expiry) == (3, 9)
    assert not connector.force_close
    await transport.aclose()


@pytest.mark.anyio
async def test_no_keepalive_closes_every_connection() -> None:
    """max_keepalive_connections=0 turns keep-alive off, as in httpcore."""
    pool = PoolConfig(backend="aiohttp", max_keepalive_connections=0)
    transport = build_pool_transport(pool)
    assert transport._open().connector.force_close
    await transport.aclose()


def test_the_sync_stack_keeps_httpcore() -> None:
    """The sync client has no aiohttp pool: backend='aiohttp' is async only."""
    transport = build_pool_transport(AIOHTTP, sync=True)
    assert isinstance(transport, PoolTransport)
    with pytest.raises(TypeError, match="async only"):
        AiohttpPoolTransport(AIOHTTP).handle_request(httpx2.Request("GET", "http://x/"))


def test_a_missing_aiohttp_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without aiohttp installed, the error says how to install it or leave it."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "aiohttp" else real(name, *a),
    )
    with pytest.raises(ModuleNotFoundError, match="backend='httpcore'"):
        build_pool_transport(AIOHTTP)


def test_http2_is_not_offered_on_aiohttp(caplog: pytest.LogCaptureFixture) -> None:
    """Asking aiohttp for HTTP/2 warns and speaks HTTP/1.1."""
    with caplog.at_level(logging.WARNING, logger="holysheep_client"):
        transport = AiohttpPoolTransport(PoolConfig(backend="aiohttp", http2=True))
    assert not transport.http2 and "HTTP/1.1" in caplog.text


@pytest.mark.parametrize("lib", [httpx2, httpx], ids=["httpx2", "httpx"])
@pytest.mark.parametrize(
    "cls", _aiohttp_classes(), ids=lambda c: f"{c.__module__}.{c.__name__}"
)
def test_every_aiohttp_exception_maps_to_our_tree(
    cls: type[BaseException], lib: Any
) -> None:
    """Each aiohttp exception class becomes the library's, then ours, by class."""
    exc = _make(cls)
    mapped = library_error(exc, upstream_pairs(lib))
    assert isinstance(mapped, lib.TransportError), cls
    ours = errors.map_exception(mapped, provider="p")
    assert isinstance(ours, errors.APIConnectionError)
    assert "sk-secret" not in str(ours)
    if issubclass(cls, TimeoutError):
        assert isinstance(mapped, lib.TimeoutException)
        assert isinstance(ours, errors.APITimeoutError)


def test_other_exceptions_are_not_mapped() -> None:
    """An exception that is not aiohttp's passes through the table."""
    assert library_error(KeyError("x"), upstream_pairs(httpx2)) is None


# -- on loopback --------------------------------------------------------------------


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeServer]:
    with FakeServer.start() as server:
        yield server


@pytest.fixture
def server(_server: FakeServer) -> FakeServer:
    """The module's fake provider, reset."""
    _server.reset()
    return _server


def config(url: str, **kw: Any) -> ClientConfig:
    return ClientConfig(
        providers=[ProviderConfig(name="fake", base_url=url, api_key=DEFAULT_API_KEY)],
        retry=RetryConfig(max_attempts=1),
        rate_limit=None,
        **kw,
    )


@pytest.mark.slow
@pytest.mark.anyio
async def test_idle_connections_are_capped(server: FakeServer) -> None:
    """After 20 concurrent calls at most max_keepalive_connections stay open, reused."""
    server.configure(latency=0.05)
    pool = PoolConfig(
        backend="aiohttp", max_connections=20, max_keepalive_connections=4
    )
    async with httpx2.AsyncClient(transport=build_pool_transport(pool)) as http:
        rs = await asyncio.gather(
            *(
                http.post(f"{server.url}/messages", json=BODY, headers=HEADERS)
                for _ in range(20)
            )
        )
        assert {r.status_code for r in rs} == {200}
        await asyncio.sleep(0.1)
        stats = server.stats()
        assert stats["max_open_connections"] >= 10
        assert stats["open_connections"] <= 4 + 1  # + the stats call's own
        r = await http.post(f"{server.url}/messages", json=BODY, headers=HEADERS)
        assert r.status_code == 200
        assert server.stats()["connections_total"] == stats["connections_total"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_body_streams_as_it_arrives(server: FakeServer) -> None:
    """The first SSE bytes reach the reader while the server stalls the rest."""
    server.set_faults([Fault("stall", after_chunks=1, delay=0.6)])
    body = {**BODY, "stream": True}
    async with (
        httpx2.AsyncClient(transport=build_pool_transport(AIOHTTP)) as http,
        http.stream("POST", f"{server.url}/messages", json=body, headers=HEADERS) as r,
    ):
        start = time.monotonic()
        seen = b""
        async for chunk in r.aiter_raw():
            seen += chunk
            if b"content_block_delta" in seen:
                break
        assert time.monotonic() - start < 0.4
    async with httpx2.AsyncClient(transport=build_pool_transport(AIOHTTP)) as http:
        r = await http.post(f"{server.url}/messages", json=body, headers=HEADERS)
        assert r.text.rstrip().endswith("}") and "message_stop" in r.text


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_stream_closed_early_leaves_the_pool_usable(server: FakeServer) -> None:
    """Closing a body half read drops its connection; the next call still works."""
    server.set_faults([Fault("stall", after_chunks=1, delay=0.3, times=1)])
    body = {**BODY, "stream": True}
    async with httpx2.AsyncClient(transport=build_pool_transport(AIOHTTP)) as http:
        async with http.stream(
            "POST", f"{server.url}/messages", json=body, headers=HEADERS
        ) as r:
            async for _ in r.aiter_raw():
                break
        r = await http.post(f"{server.url}/messages", json=BODY, headers=HEADERS)
        assert r.json()["type"] == "message"


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_streamed_request_body_is_sent(server: FakeServer) -> None:
    """A request body that is an async iterator goes out chunked."""
    import json

    async def parts() -> AsyncIterator[bytes]:
        raw = json.dumps(BODY).encode()
        yield raw[:10]
        yield raw[10:]

    async with httpx2.AsyncClient(transport=build_pool_transport(AIOHTTP)) as http:
        r = await http.post(f"{server.url}/messages", content=parts(), headers=HEADERS)
    assert r.status_code == 200 and r.json()["type"] == "message"


@pytest.mark.slow
@pytest.mark.anyio
async def test_without_a_bound_httpx_read_timeout_holds(server: FakeServer) -> None:
    """Bare, under an httpx2 client, the read timeout is aiohttp's per-read one."""
    server.set_faults([Fault("latency", delay=5.0)])
    async with httpx2.AsyncClient(
        transport=build_pool_transport(AIOHTTP), timeout=httpx2.Timeout(0.3)
    ) as http:
        start = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            await http.post(f"{server.url}/messages", json=BODY, headers=HEADERS)
    assert time.monotonic() - start < 1.5


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("part", ["headers", "body"])
async def test_a_dripping_server_cannot_stretch_an_attempt(
    server: FakeServer, part: str
) -> None:
    """per_attempt=0.5 ends an attempt whose headers or body drip, at 0.5 s."""
    server.set_faults([Fault("drip", rate=20, drip=part)])  # type: ignore[arg-type]
    cfg = config(
        server.url,
        pool=AIOHTTP,
        timeout=TimeoutConfig(per_attempt=0.5, total=None),
    )
    stack = build_transport_stack(cfg, "fake")
    request = httpx2.Request(
        "POST", f"{server.url}/messages", json=BODY, headers=HEADERS
    )

    async def send_and_read() -> None:
        response = await stack.handle_async_request(request)
        await response.aread()

    start = time.monotonic()
    with pytest.raises(APITimeoutError):
        await send_and_read()
    assert 0.45 <= time.monotonic() - start <= 0.6
    await stack.aclose()


@pytest.mark.anyio
async def test_a_refused_connection_is_a_connection_error() -> None:
    """Nothing listening: aiohttp's connector error becomes APIConnectionError."""
    stack = build_transport_stack(config("http://127.0.0.1:9/v1", pool=AIOHTTP), "fake")
    with pytest.raises(APIConnectionError) as info:
        await stack.handle_async_request(
            httpx2.Request("POST", "http://127.0.0.1:9/v1/messages", json=BODY)
        )
    assert isinstance(info.value.__cause__, httpx2.ConnectError)
    assert isinstance(info.value.__cause__.__cause__, aiohttp.ClientConnectorError)
    await stack.aclose()


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_callers_cancel_while_the_headers_are_awaited_stays_a_cancel(
    server: FakeServer,
) -> None:
    """Under a bound the headers' deadline is a timer of ours that cancels the task:
    a cancellation from the caller is not taken for it, nor left behind."""
    server.set_faults([Fault("drip", rate=20, drip="headers")])
    cfg = config(
        server.url, pool=AIOHTTP, timeout=TimeoutConfig(per_attempt=5.0, total=None)
    )
    stack = build_transport_stack(cfg, "fake")
    request = httpx2.Request(
        "POST", f"{server.url}/messages", json=BODY, headers=HEADERS
    )
    task = asyncio.ensure_future(stack.handle_async_request(request))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    # The headers' deadline timer went with the request (no Expiry left to fire).
    loop = asyncio.get_running_loop()
    scheduled = loop._scheduled  # type: ignore[attr-defined]
    assert not [
        h for h in scheduled if isinstance(h._callback, Expiry) and not h.cancelled()
    ]
    await stack.aclose()


@pytest.mark.anyio
async def test_an_expiry_that_fired_too_late_is_taken_back_a_foreign_cancel_is_not() -> (
    None
):
    """`Expiry.absorb` after a wait that ended well: a cancellation the expiry asked
    for is taken back and never reaches the task's next await; one asked for by
    someone else stays, alone or beside ours."""
    task = asyncio.current_task()
    assert task is not None
    late = Expiry(task)
    late()  # fired as the headers came
    assert task.cancelling() == 1
    await late.absorb()
    assert task.cancelling() == 0
    await asyncio.sleep(0)  # nothing left to deliver: no CancelledError

    idle = Expiry(task)
    task.cancel()  # a caller's cancel; the expiry never fired
    await idle.absorb()
    assert task.cancelling() == 1
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(0)
    task.uncancel()

    both = Expiry(task)
    both()
    task.cancel()  # a caller's cancel beside ours
    await both.absorb()
    assert task.cancelling() == 1
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(0)
    task.uncancel()
