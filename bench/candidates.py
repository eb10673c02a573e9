"""
``python -m bench.candidates``: the HTTP libraries a second async pool could be built
on, measured bare against the loopback fake (client CPU per call), before choosing one.

Each candidate sends the same ``POST /v1/messages`` and decodes the JSON answer, with
a pool as large as the concurrency, in interleaved rounds; a library that is not
installed is skipped. Ratios are against raw httpx2 in the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from holysheep_client.testing import DEFAULT_API_KEY, FakeServer

__all__ = ["main"]

BODY = {
    "model": "deepseek-v3.2",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Say hello."}],
}
RAW = json.dumps(BODY).encode()
HEADERS = {
    "x-api-key": DEFAULT_API_KEY,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
Make = Callable[[str, int], Awaitable[tuple[Callable[[], Awaitable[Any]], Any]]]


async def _httpx2(url: str, size: int) -> tuple[Callable[[], Awaitable[Any]], Any]:
    import httpx2

    c = httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=size, max_keepalive_connections=size),
        timeout=httpx2.Timeout(30.0, connect=5.0),
    )

    async def call() -> Any:
        return (await c.post(url, content=RAW, headers=HEADERS)).json()

    return call, c.aclose


async def _aiohttp(url: str, size: int) -> tuple[Callable[[], Awaitable[Any]], Any]:
    import aiohttp

    s = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=size, keepalive_timeout=5.0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=30.0),
    )

    async def call() -> Any:
        async with s.post(url, data=RAW, headers=HEADERS) as r:
            return json.loads(await r.read())

    return call, s.close


async def _aiosonic(url: str, size: int) -> tuple[Callable[[], Awaitable[Any]], Any]:
    import aiosonic
    from aiosonic.pools import PoolConfig

    pools = {":default": PoolConfig(size=size)}
    c = aiosonic.HTTPClient(aiosonic.TCPConnector(pool_configs=pools))

    async def call() -> Any:
        r = await c.post(url, data=RAW, headers=HEADERS)
        return json.loads(await r.content())

    async def close() -> None:
        await c.connector.cleanup()

    return call, close


async def _curl(url: str, size: int) -> tuple[Callable[[], Awaitable[Any]], Any]:
    from curl_cffi.requests import AsyncSession

    s = AsyncSession(max_clients=size)

    async def call() -> Any:
        r = await s.post(url, data=RAW, headers=HEADERS)
        return json.loads(r.content)

    return call, s.close


async def _pyreqwest(url: str, size: int) -> tuple[Callable[[], Awaitable[Any]], Any]:
    from pyreqwest.client import ClientBuilder

    c = ClientBuilder().max_connections(size).build()
    await c.__aenter__()

    async def call() -> Any:
        r = await c.post(url).body_bytes(RAW).headers(HEADERS).build().send()
        return json.loads(bytes(await r.bytes()))

    async def close() -> None:
        await c.__aexit__(None, None, None)

    return call, close


CANDIDATES: dict[str, Make] = {
    "httpx2": _httpx2,
    "aiohttp": _aiohttp,
    "aiosonic": _aiosonic,
    "curl_cffi": _curl,
    "pyreqwest": _pyreqwest,
}


async def _measure(make: Make, url: str, requests: int, conc: int) -> float:
    call, close = await make(url, max(conc, 10))
    try:
        await asyncio.gather(*(call() for _ in range(min(conc, 200))))
        per = max(requests // conc, 1)

        async def worker() -> None:
            for _ in range(per):
                await call()

        gc.collect()
        cpu = time.process_time()
        await asyncio.gather(*(worker() for _ in range(conc)))
        return (time.process_time() - cpu) / (per * conc)
    finally:
        r = close()
        if r is not None:
            await r


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print CPU per call of each installed candidate, and its ratio to httpx2.
    """
    p = argparse.ArgumentParser(prog="python -m bench.candidates", description=__doc__)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, nargs="+", default=[50, 1000])
    args = p.parse_args(argv)
    usable: dict[str, Make] = {}
    for name, make in CANDIDATES.items():
        try:
            __import__({"curl_cffi": "curl_cffi.requests"}.get(name, name))
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        usable[name] = make
    cpu: dict[tuple[str, int], dict[int, float]] = {}
    with FakeServer.start() as server:
        url = f"{server.url}/messages"
        for conc in args.concurrency:
            for rnd in range(args.rounds):
                names = list(usable) if rnd % 2 == 0 else list(usable)[::-1]
                for name in names:
                    try:
                        v = asyncio.run(
                            _measure(usable[name], url, args.requests, conc)
                        )
                    except Exception as exc:
                        print(f"{name} c={conc}: {type(exc).__name__}: {exc}"[:120])
                        continue
                    cpu.setdefault((name, conc), {})[rnd] = v
    print(f"\n{'library':12} {'conc':>5} {'CPU us/call':>12} {'vs httpx2':>10}")
    for conc in args.concurrency:
        base = cpu.get(("httpx2", conc), {})
        for name in usable:
            got = cpu.get((name, conc), {})
            if not got:
                continue
            ratios = [got[r] / base[r] for r in got if r in base]
            ratio = f"{statistics.median(ratios):.2f}x" if ratios else "-"
            print(
                f"{name:12} {conc:>5} {statistics.median(got.values()) * 1e6:>12.0f}"
                f" {ratio:>10}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
