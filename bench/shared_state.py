"""
Shared state's cost: run with ``python -m bench.shared_state`` (needs ``redis-server``).

Starts a redis-server on a free loopback port, then measures per call, sequentially:
pybreaker's own ``CircuitRedisStorage`` (the blocking client, which holds the event
loop for the whole call), and the full async stack over an instant in-process
transport with local state, with shared state (breaker + GCRA in Redis), and with
shared state while Redis is down (the fail-open path).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return proc


def _pybreaker_redis(url: str, calls: int) -> float:
    """Seconds per successful call through pybreaker with its Redis storage."""
    import pybreaker
    import redis

    client = redis.Redis.from_url(url)
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, client, namespace="bench"
    )
    breaker = pybreaker.CircuitBreaker(fail_max=10, state_storage=storage)
    breaker.call(lambda: None)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            breaker.call(lambda: None)
        best = min(best, (time.perf_counter() - start) / calls)
    client.close()
    return best


async def _stack_call(url: str | None, calls: int) -> float:
    """Seconds per call through the full async stack over an instant transport."""
    import httpx2

    from holysheep_client import (
        ClientConfig,
        ProviderConfig,
        RateLimitConfig,
        SharedStateConfig,
    )
    from holysheep_client._resilience.stack import build_transport_stack

    config = ClientConfig(
        providers=[
            ProviderConfig(name="p", base_url="http://127.0.0.1:9/v1", api_key="k")
        ],
        rate_limit=RateLimitConfig(requests_per_second=1_000_000),
        shared_state=None if url is None else SharedStateConfig(url=url),
    )
    stack: Any = build_transport_stack(
        config, "p", inner=httpx2.MockTransport(lambda r: httpx2.Response(200, json={}))
    )
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/messages", json={})

    async def one() -> None:
        request.extensions.clear()
        response = await stack.handle_async_request(request)
        await response.aread()
        await response.aclose()

    for _ in range(200):
        await one()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            await one()
        best = min(best, (time.perf_counter() - start) / calls)
    await stack.aclose()
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print the table: microseconds per call and the ratio against local state.
    """
    parser = argparse.ArgumentParser(
        prog="python -m bench.shared_state", description=__doc__
    )
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("holysheep_client").setLevel(logging.ERROR)
    port = _free_port()
    proc = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        pyb = _pybreaker_redis(url, args.calls)
        local = asyncio.run(_stack_call(None, args.calls))
        shared = asyncio.run(_stack_call(url, args.calls))
    finally:
        proc.kill()
        proc.wait()
    down = asyncio.run(_stack_call(url, args.calls))
    print(f"python {sys.version.split()[0]}; {args.calls} sequential calls, best of 3")
    print(f"{'':46} {'us/call':>8} {'vs local':>8}")
    rows = [
        ("pybreaker CircuitRedisStorage (blocking)", pyb, None),
        ("full stack, local state", local, local),
        ("full stack, shared state (Redis on loopback)", shared, local),
        ("full stack, shared state, Redis down", down, local),
    ]
    for name, value, base in rows:
        ratio = "-" if base is None else f"{value / base:.2f}x"
        print(f"{name:46} {value * 1e6:>8.1f} {ratio:>8}")
    print(f"added per admission with Redis: {(shared - local) * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
