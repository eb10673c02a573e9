"""
The clients being compared; each returns an async ``call()`` and an async ``close()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from holysheep_client import (
    ClientConfig,
    PoolConfig,
    ProviderConfig,
    RateLimitConfig,
    TimeoutConfig,
)
from holysheep_client.testing import DEFAULT_API_KEY

__all__ = ["VARIANTS", "Variant", "bench_config", "connect_timeout", "limits"]

MODEL = "deepseek-v3.2"
MESSAGES = [{"role": "user", "content": "Say hello."}]
BODY = {"model": MODEL, "max_tokens": 64, "messages": MESSAGES}
HEADERS = {"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"}
LIMITS = {"max_connections": 100, "max_keepalive_connections": 64}
# Every transport-level variant gets the same pool limits and timeouts: asyncio's
# timer heap makes longer timeouts cost a little more CPU, so they must match.
CONNECT, PER_ATTEMPT = 5.0, 30.0

Call = Callable[[], Awaitable[Any]]
Close = Callable[[], Awaitable[None]]


def connect_timeout(concurrency: int) -> float:
    """
    5 s, or above 100 in flight 30 s: a client opening that many connections at
    once (and working on the answers meanwhile) needs longer, whichever it is.
    """
    return CONNECT if concurrency <= 100 else PER_ATTEMPT


def limits(concurrency: int) -> dict[str, int]:
    """
    The pool limits of every variant at ``concurrency``: 100/64 up to 100 calls in
    flight, then one connection per call (a replica holding that many).
    """
    if concurrency <= 100:
        return dict(LIMITS)
    return {"max_connections": concurrency, "max_keepalive_connections": concurrency}


def bench_config(
    url: str, concurrency: int = 50, backend: str = "httpcore"
) -> ClientConfig:
    """
    The full stack as a user would run it: every layer on, none of them binding.

    A deadline (``timeout.total``), a rate limit far above the offered load, and a
    bulkhead above the concurrency; the pool on ``backend``.
    """
    return ClientConfig(
        providers=[ProviderConfig(name="fake", base_url=url, api_key=DEFAULT_API_KEY)],
        rate_limit=RateLimitConfig(requests_per_second=1_000_000),
        pool=PoolConfig(**limits(concurrency), backend=backend),
        timeout=TimeoutConfig(
            connect=connect_timeout(concurrency), per_attempt=PER_ATTEMPT, total=60
        ),
        max_concurrent_requests=max(200, concurrency),
    )


async def raw_httpx2(origin: str, url: str, conc: int) -> tuple[Call, Close]:
    import httpx2

    client = httpx2.AsyncClient(
        limits=httpx2.Limits(**limits(conc)),
        timeout=httpx2.Timeout(PER_ATTEMPT, connect=connect_timeout(conc)),
    )

    async def call() -> Any:
        response = await client.post(f"{url}/messages", json=BODY, headers=HEADERS)
        return response.json()

    return call, client.aclose


async def pool_transport(
    origin: str, url: str, conc: int, backend: str = "httpcore"
) -> tuple[Call, Close]:
    import httpx2

    from holysheep_client._transports.pool import build_pool_transport

    pool = PoolConfig(**limits(conc), backend=backend)
    transport: Any = build_pool_transport(pool)
    client = httpx2.AsyncClient(
        transport=transport,
        timeout=httpx2.Timeout(PER_ATTEMPT, connect=connect_timeout(conc)),
    )

    async def call() -> Any:
        response = await client.post(f"{url}/messages", json=BODY, headers=HEADERS)
        return response.json()

    return call, client.aclose


async def full_stack(
    origin: str, url: str, conc: int, backend: str = "httpcore"
) -> tuple[Call, Close]:
    from holysheep_client import build_http_client

    client = build_http_client(bench_config(url, conc, backend), "fake")

    async def call() -> Any:
        response = await client.post(f"{url}/messages", json=BODY, headers=HEADERS)
        return response.json()

    return call, client.aclose


async def anthropic_alone(origin: str, url: str, conc: int) -> tuple[Call, Close]:
    import anthropic

    sdk = anthropic.AsyncAnthropic(
        base_url=origin, api_key=DEFAULT_API_KEY, max_retries=0
    )

    async def call() -> Any:
        return await sdk.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]

    return call, sdk.close


async def anthropic_on_stack(
    origin: str, url: str, conc: int, backend: str = "httpcore"
) -> tuple[Call, Close]:
    import anthropic

    from holysheep_client import build_http_client

    sdk = anthropic.AsyncAnthropic(
        base_url=origin,
        api_key=DEFAULT_API_KEY,
        http_client=build_http_client(bench_config(url, conc, backend), "fake"),
        max_retries=0,
    )

    async def call() -> Any:
        return await sdk.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]

    return call, sdk.close


async def holysheep_chat(
    origin: str, url: str, conc: int, backend: str = "httpcore"
) -> tuple[Call, Close]:
    from holysheep_client import AsyncClient

    client = AsyncClient(bench_config(url, conc, backend))

    async def call() -> Any:
        return await client.chat(messages=MESSAGES, model=MODEL, max_tokens=64)

    return call, client.aclose


def _big_schema() -> dict[str, Any]:
    """A tool input schema of about 2 KB, like a real order-lookup tool's."""
    props = {
        f"field_{i}": {
            "type": "string",
            "description": f"Field {i} of the order record, as shown to agents.",
        }
        for i in range(24)
    }
    return {"type": "object", "properties": props, "required": list(props)[:4]}


TOOLS = [
    {
        "name": "lookup_order",
        "description": "Look an order up by id.",
        "input_schema": _big_schema(),
    },
    {
        "type": "function",
        "function": {
            "name": "refund",
            "description": "Refund an order.",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
        },
    },
]


async def holysheep_chat_tools(
    origin: str, url: str, conc: int, backend: str = "httpcore"
) -> tuple[Call, Close]:
    from holysheep_client import AsyncClient

    client = AsyncClient(bench_config(url, conc, backend))

    async def call() -> Any:
        return await client.chat(
            messages=MESSAGES, model=MODEL, max_tokens=64, tools=TOOLS
        )

    return call, client.aclose


@dataclass(frozen=True, slots=True)
class Variant:
    """One client under test."""

    key: str
    label: str
    make: Callable[[str, str, int], Awaitable[tuple[Call, Close]]]


def _on_aiohttp(
    make: Callable[..., Awaitable[tuple[Call, Close]]],
) -> Callable[[str, str, int], Awaitable[tuple[Call, Close]]]:
    async def made(origin: str, url: str, conc: int) -> tuple[Call, Close]:
        return await make(origin, url, conc, "aiohttp")

    return made


VARIANTS = [
    Variant("raw", "raw httpx2", raw_httpx2),
    Variant("pool", "our bare pool transport", pool_transport),
    Variant("stack", "full stack (build_http_client)", full_stack),
    Variant("sdk", "anthropic SDK alone", anthropic_alone),
    Variant("sdk_stack", "anthropic SDK on our stack", anthropic_on_stack),
    Variant("chat", "AsyncClient.chat (full stack)", holysheep_chat),
    Variant("chat_tools", "chat() with tools, a 2 KB schema", holysheep_chat_tools),
    Variant("pool_aio", "our bare pool, aiohttp", _on_aiohttp(pool_transport)),
    Variant("stack_aio", "full stack, aiohttp pool", _on_aiohttp(full_stack)),
    Variant(
        "sdk_stack_aio", "anthropic SDK, aiohttp pool", _on_aiohttp(anthropic_on_stack)
    ),
    Variant("chat_aio", "AsyncClient.chat, aiohttp pool", _on_aiohttp(holysheep_chat)),
    Variant(
        "chat_tools_aio",
        "chat() with tools, aiohttp pool",
        _on_aiohttp(holysheep_chat_tools),
    ),
]
