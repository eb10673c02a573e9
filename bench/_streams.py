"""
Streams: the clients compared on answers of 200 deltas, CPU per delta, and the
profile of our share of it.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import pstats
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from holysheep_client.testing import DEFAULT_API_KEY

from ._variants import (
    HEADERS,
    MESSAGES,
    MODEL,
    Call,
    Close,
    Variant,
    bench_config,
    limits,
)

__all__ = [
    "DELTAS",
    "REPLY",
    "STREAM_VARIANTS",
    "measure_stream",
    "our_share",
]

#: Deltas per streamed answer: the fake sends one per word.
DELTAS = 200
REPLY = " ".join(f"w{i}" for i in range(DELTAS))
MAX_TOKENS = 4 * DELTAS
STREAM_BODY = {
    "model": MODEL,
    "max_tokens": MAX_TOKENS,
    "messages": MESSAGES,
    "stream": True,
}
#: Files that are ours, for the profile (the fake server runs in another process).
OURS = "/holysheep_client/"


async def raw_httpx2_sse(origin: str, url: str, conc: int) -> tuple[Call, Close]:
    """The floor: httpx2 and the least SSE parsing that yields the deltas' text."""
    import httpx2

    from ._variants import PER_ATTEMPT, connect_timeout

    client = httpx2.AsyncClient(
        limits=httpx2.Limits(**limits(conc)),
        timeout=httpx2.Timeout(PER_ATTEMPT, connect=connect_timeout(conc)),
    )

    async def call() -> int:
        n = 0
        async with client.stream(
            "POST", f"{url}/messages", json=STREAM_BODY, headers=HEADERS
        ) as r:
            rest = b""
            async for chunk in r.aiter_raw():
                *lines, rest = (rest + chunk).split(b"\n")
                for line in lines:
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        if event["type"] == "content_block_delta":
                            n += bool(event["delta"]["text"])
        return n

    return call, client.aclose


async def anthropic_sse(origin: str, url: str, conc: int) -> tuple[Call, Close]:
    """The anthropic SDK alone, iterating its raw stream events."""
    import anthropic

    sdk = anthropic.AsyncAnthropic(
        base_url=origin, api_key=DEFAULT_API_KEY, max_retries=0
    )

    async def call() -> int:
        n = 0
        stream = await sdk.messages.create(
            model=MODEL,
            max_tokens=MAX_TOKENS,
            messages=cast(Any, MESSAGES),
            stream=True,
        )
        async for event in stream:
            if event.type == "content_block_delta":
                n += 1
        return n

    return call, sdk.close


def _ours(backend: str) -> Callable[[str, str, int], Awaitable[tuple[Call, Close]]]:
    async def make(origin: str, url: str, conc: int) -> tuple[Call, Close]:
        from holysheep_client import AsyncClient

        client = AsyncClient(bench_config(url, conc, backend))

        async def call() -> int:
            n = 0
            async with client.stream(
                messages=MESSAGES, model=MODEL, max_tokens=MAX_TOKENS
            ) as s:
                async for _ in s.text_stream:
                    n += 1
            return n

        return call, client.aclose

    return make


STREAM_VARIANTS = [
    Variant("raw_sse", "raw httpx2, minimal SSE parse", raw_httpx2_sse),
    Variant("sdk_sse", "anthropic SDK alone, raw events", anthropic_sse),
    Variant("stream", "AsyncClient.stream", _ours("httpcore")),
    Variant("stream_aio", "AsyncClient.stream, aiohttp pool", _ours("aiohttp")),
]


async def measure_stream(
    variant: Variant,
    origin: str,
    url: str,
    streams: int,
    conc: int,
    profile: cProfile.Profile | None = None,
) -> tuple[float, float]:
    """
    CPU seconds per delta and deltas per second, over ``streams`` streams.

    Raises:
        RuntimeError: A stream did not carry `DELTAS` deltas.
    """
    call, close = await variant.make(origin, url, conc)
    try:
        got = await asyncio.gather(*(call() for _ in range(min(conc, 50))))
        if set(got) != {DELTAS}:
            raise RuntimeError(f"{variant.key}: streams of {sorted(set(got))} deltas")
        per = max(streams // conc, 1)

        async def worker() -> None:
            for _ in range(per):
                await call()

        gc.collect()
        if profile is not None:
            profile.enable()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        cpu1, wall1 = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.disable()
    finally:
        await close()
    deltas = per * conc * DELTAS
    return (cpu1 - cpu0) / deltas, deltas / (wall1 - wall0)


def our_share(profile: cProfile.Profile) -> float:
    """
    The fraction of the profiled time spent in our own functions (tottime).
    """
    stats: Any = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = ours = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        total += tottime
        if OURS in filename and "/testing/" not in filename:
            ours += tottime
    return ours / total if total else 0.0
