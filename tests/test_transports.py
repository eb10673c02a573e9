"""
Pool transports and build_http_client, unit-tested and end to end on the loopback fake.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest

from holysheep_client import (
    APITimeoutError,
    BreakerConfig,
    CircuitOpenError,
    ClientConfig,
    PoolConfig,
    ProviderConfig,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client._client.http_client import build_http_client
from holysheep_client._resilience.retry import no_backoff
from holysheep_client._resilience.stack import build_transport_stack
from holysheep_client._transports.base import SharedAsyncTransport, SharedSyncTransport
from holysheep_client._transports.pool import PoolTransport, build_pool_transport
from holysheep_client.testing import DEFAULT_API_KEY, FakeServer, Fault

MESSAGE = {"role": "user", "content": "hi"}


def config(
    url: str = "http://127.0.0.1:9/v1", backend: str = "httpcore", **kw: Any
) -> ClientConfig:
    kw.setdefault("pool", PoolConfig())
    kw["pool"] = kw["pool"].model_copy(update={"backend": backend})
    data: dict[str, Any] = {
        "providers": [
            ProviderConfig(name="fake", base_url=url, api_key=DEFAULT_API_KEY)
        ],
        "retry": RetryConfig(max_attempts=3, initial_backoff=0.01, max_backoff=0.05),
        "rate_limit": None,
    }
    data.update(kw)
    return ClientConfig(**data)


# -- unit ----------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["httpx2", "httpx"])
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
def test_pool_transport_carries_the_pool_limits(flavor: str, sync: bool) -> None:
    """The pool transport is the flavor's httpcore pool with our limits."""
    import httpcore
    import httpcore2

    pool = PoolConfig(
        max_connections=7,
        max_keepalive_connections=3,
        keepalive_expiry=9,
        backend="httpcore",
    )
    transport = build_pool_transport(pool, sync=sync, flavor=flavor)  # type: ignore[arg-type]
    core = httpcore2 if flavor == "httpx2" else httpcore
    inner = transport._pool
    assert isinstance(inner, core.ConnectionPool if sync else core.AsyncConnectionPool)
    assert (inner._max_connections, inner._max_keepalive_connections) == (7, 3)
    assert inner._keepalive_expiry == 9
    assert repr(transport) == (
        f"<PoolTransport flavor={flavor} max_connections=7 max_keepalive_connections=3"
        " http2=False>"
    )


def test_http2_without_h2_falls_back_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Asking for HTTP/2 without h2 installed warns and uses HTTP/1.1."""
    from holysheep_client._transports.pool import h2_available

    with caplog.at_level(logging.WARNING, logger="holysheep_client"):
        transport = PoolTransport(PoolConfig(http2=True))
    if h2_available():  # pragma: no cover - h2 is not a dependency
        assert transport.http2
    else:
        assert not transport.http2
        assert "h2" in caplog.text


def test_an_unknown_flavor_is_refused() -> None:
    """Only httpx2 and httpx are flavors."""
    with pytest.raises(ValueError, match="flavor"):
        build_pool_transport(PoolConfig(), flavor="requests")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("flavor", "sync", "cls"),
    [
        ("httpx2", False, httpx2.AsyncClient),
        ("httpx2", True, httpx2.Client),
        ("httpx", False, httpx.AsyncClient),
        ("httpx", True, httpx.Client),
    ],
)
def test_build_http_client_returns_the_flavors_client(
    flavor: str, sync: bool, cls: type[Any]
) -> None:
    """Each flavor/sync pair gives that library's client, with no key and no base URL."""
    cfg = config(timeout=TimeoutConfig(connect=3, per_attempt=12))
    client = build_http_client(cfg, "fake", sync=sync, flavor=flavor)  # type: ignore[call-overload]
    assert type(client) is cls
    assert str(client.base_url) == ""
    assert "x-api-key" not in client.headers
    assert "authorization" not in client.headers
    assert client.timeout.connect == 3
    assert client.timeout.read == client.timeout.write == client.timeout.pool == 12
    assert DEFAULT_API_KEY not in repr(client._transport)
    if sync:
        client.close()
    else:
        asyncio.run(client.aclose())


@pytest.mark.anyio
async def test_shared_transports_leave_the_stack_open() -> None:
    """Closing a shared view does not close the client's stack."""
    closed: list[str] = []

    class Stack:
        async def handle_async_request(self, request: Any) -> Any:
            return httpx2.Response(204)

        def handle_request(self, request: Any) -> Any:
            return httpx2.Response(204)

        async def aclose(self) -> None:
            closed.append("async")

        def close(self) -> None:
            closed.append("sync")

    async with httpx2.AsyncClient(transport=SharedAsyncTransport(Stack())) as c:  # type: ignore[arg-type]
        assert (await c.get("http://x/")).status_code == 204
    with httpx2.Client(transport=SharedSyncTransport(Stack())) as s:  # type: ignore[arg-type]
        assert s.get("http://x/").status_code == 204
    assert closed == []
    assert repr(SharedSyncTransport(Stack())).startswith("<SharedSyncTransport")  # type: ignore[arg-type]


# -- end to end on loopback ----------------------------------------------------------


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeServer]:
    """One loopback fake provider for this module."""
    with FakeServer.start() as server:
        yield server


@pytest.fixture
def server(_server: FakeServer) -> FakeServer:
    """The module's fake provider, reset."""
    _server.reset()
    return _server


def chat_body() -> dict[str, Any]:
    return {"model": "deepseek-v3.2", "max_tokens": 32, "messages": [MESSAGE]}


def headers() -> dict[str, str]:
    return {"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"}


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_server_never_sees_more_than_max_connections(
    server: FakeServer, pool_backend: str
) -> None:
    """60 concurrent calls over a pool of 4 never open more than 4 connections."""
    server.configure(latency=0.02)
    cfg = config(
        server.url,
        pool_backend,
        pool=PoolConfig(max_connections=4, max_keepalive_connections=4),
    )
    async with build_http_client(cfg, "fake") as http:
        responses = await asyncio.gather(
            *(
                http.post(f"{server.url}/messages", json=chat_body(), headers=headers())
                for _ in range(60)
            )
        )
    assert {r.status_code for r in responses} == {200}
    stats = server.stats()
    assert stats["requests"] == 60
    assert 1 <= stats["max_open_connections"] <= 4


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_total_deadline_beats_a_long_per_attempt_timeout(
    server: FakeServer, pool_backend: str
) -> None:
    """per_attempt=30 s with total=2 s gives up at about 2 s, as APITimeoutError."""
    server.set_faults([Fault("latency", delay=30.0)])
    cfg = config(
        server.url, pool_backend, timeout=TimeoutConfig(per_attempt=30.0, total=2.0)
    )
    stack = build_transport_stack(cfg, "fake")
    request = httpx2.Request(
        "POST", f"{server.url}/messages", json=chat_body(), headers=headers()
    )
    start = time.monotonic()
    with pytest.raises(APITimeoutError):
        await stack.handle_async_request(request)
    elapsed = time.monotonic() - start
    await stack.aclose()
    assert 1.9 <= elapsed < 4.0
    assert server.stats()["requests"] == 1


@pytest.mark.slow
def test_a_total_deadline_holds_on_the_sync_path(server: FakeServer) -> None:
    """The sync stack also gives up at the 2 s deadline, via capped read timeouts."""
    server.set_faults([Fault("latency", delay=30.0)])
    cfg = config(server.url, timeout=TimeoutConfig(per_attempt=30.0, total=2.0))
    with build_http_client(cfg, "fake", sync=True) as http:
        start = time.monotonic()
        with pytest.raises(httpx2.TimeoutException) as info:
            http.post(f"{server.url}/messages", json=chat_body(), headers=headers())
        elapsed = time.monotonic() - start
    assert isinstance(info.value, APITimeoutError)  # both the library's and ours
    assert 1.9 <= elapsed < 4.0


@pytest.mark.slow
@pytest.mark.anyio
async def test_anthropic_async_sdk_gains_our_retries_and_breaker(
    server: FakeServer, pool_backend: str
) -> None:
    """The async anthropic SDK on our client: the server sees our retry; the breaker opens."""
    import anthropic

    cfg = config(
        server.url,
        pool_backend,
        circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=60),
    )
    http = build_http_client(cfg, "fake")
    sdk = anthropic.AsyncAnthropic(
        base_url=server.origin, api_key=DEFAULT_API_KEY, http_client=http, max_retries=0
    )
    server.set_faults([Fault("status", status=503, times=1)])
    message = await sdk.messages.create(
        model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
    )
    assert message.content[0].text  # type: ignore[union-attr]
    assert server.stats()["requests"] == 2
    server.set_faults([Fault("status", status=500)])
    with no_backoff(attempts=1), pytest.raises(anthropic.InternalServerError):
        await sdk.messages.create(
            model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
        )
    with no_backoff(attempts=1), pytest.raises(anthropic.InternalServerError):
        await sdk.messages.create(
            model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
        )
    seen = server.stats()["requests"]
    with pytest.raises(anthropic.APIConnectionError) as info:
        await sdk.messages.create(
            model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
        )
    assert isinstance(info.value.__cause__, CircuitOpenError)
    assert server.stats()["requests"] == seen
    await sdk.close()


@pytest.mark.slow
def test_anthropic_sync_sdk_gains_our_retries(server: FakeServer) -> None:
    """The sync anthropic SDK on our client: one 529 is retried by our stack."""
    import anthropic

    http = build_http_client(config(server.url), "fake", sync=True)
    sdk = anthropic.Anthropic(
        base_url=server.origin, api_key=DEFAULT_API_KEY, http_client=http, max_retries=0
    )
    server.set_faults([Fault("status", status=529, retry_after=0.05, times=1)])
    message = sdk.messages.create(
        model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
    )
    assert message.stop_reason is not None
    assert server.stats()["requests"] == 2
    sdk.close()


@pytest.mark.slow
@pytest.mark.anyio
async def test_anthropic_sdk_reports_our_deadline_as_its_timeout(
    server: FakeServer, pool_backend: str
) -> None:
    """A deadline expiry reaches the SDK as its own APITimeoutError."""
    import anthropic

    server.set_faults([Fault("latency", delay=5.0)])
    cfg = config(server.url, pool_backend, timeout=TimeoutConfig(total=0.3))
    sdk = anthropic.AsyncAnthropic(
        base_url=server.origin,
        api_key=DEFAULT_API_KEY,
        http_client=build_http_client(cfg, "fake"),
        max_retries=0,
    )
    with pytest.raises(anthropic.APITimeoutError) as info:
        await sdk.messages.create(
            model="deepseek-v3.2", max_tokens=32, messages=[MESSAGE]
        )
    assert isinstance(info.value.__cause__, APITimeoutError)
    await sdk.close()


@pytest.mark.slow
@pytest.mark.anyio
async def test_openai_async_sdk_gains_our_retries(
    server: FakeServer, pool_backend: str
) -> None:
    """The async openai SDK on our client: a 429 with Retry-After is retried once."""
    import openai

    sdk = openai.AsyncOpenAI(
        base_url=server.url,
        api_key=DEFAULT_API_KEY,
        http_client=build_http_client(config(server.url, pool_backend), "fake"),
        max_retries=0,
    )
    server.set_faults([Fault("status", status=429, retry_after=0.05, times=1)])
    completion = await sdk.chat.completions.create(
        model="gpt-4.1",
        messages=[MESSAGE],  # type: ignore[list-item]
    )
    assert completion.choices[0].message.content
    assert server.stats()["requests"] == 2
    await sdk.close()


@pytest.mark.slow
def test_openai_sync_sdk_gains_our_retries_and_breaker(server: FakeServer) -> None:
    """The sync openai SDK on our client: retried 502s, then an open breaker."""
    import openai

    cfg = config(
        server.url, circuit_breaker=BreakerConfig(fail_max=3, reset_timeout=60)
    )
    sdk = openai.OpenAI(
        base_url=server.url,
        api_key=DEFAULT_API_KEY,
        http_client=build_http_client(cfg, "fake", sync=True),
        max_retries=0,
    )
    server.set_faults([Fault("status", status=502)])
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="gpt-4.1", messages=[MESSAGE])  # type: ignore[list-item]
    with pytest.raises(openai.APIConnectionError) as info:
        sdk.chat.completions.create(model="gpt-4.1", messages=[MESSAGE])  # type: ignore[list-item]
    assert isinstance(info.value.__cause__, CircuitOpenError)
    assert server.stats()["requests"] == 3
    sdk.close()


@pytest.mark.slow
@pytest.mark.anyio
async def test_plain_httpx_client_gains_our_retries(
    server: FakeServer, pool_backend: str
) -> None:
    """A plain httpx.AsyncClient from build_http_client retries dropped connections."""
    server.set_faults([Fault("drop", times=2)])
    async with build_http_client(
        config(server.url, pool_backend), "fake", flavor="httpx"
    ) as http:
        response = await http.post(
            f"{server.url}/messages", json=chat_body(), headers=headers()
        )
    assert response.status_code == 200
    assert server.stats()["requests"] == 3
    with build_http_client(
        config(server.url), "fake", flavor="httpx", sync=True
    ) as sync:
        server.set_faults([Fault("status", status=503, times=1)])
        assert (
            sync.post(
                f"{server.url}/messages", json=chat_body(), headers=headers()
            ).status_code
            == 200
        )
