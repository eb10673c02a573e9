"""
Hedging benchmark: with 5% of responses delayed by 1 s, p99 latency with hedging
against without, and the extra upstream requests it costs, for `AsyncClient` (tasks)
and for `Client` (worker threads).

Run: ``python -m bench.hedging [--calls 600] [--concurrency 20] [--delay 0.1]``.
Two fake providers run on loopback in separate processes; both delay 5% of answers.
Exits 1 when, for either client, p99 is not at least 5x lower or the extra requests
exceed 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from holysheep_client import (
    AsyncClient,
    Client,
    ClientConfig,
    HedgingConfig,
    ProviderConfig,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client.testing import FakeServer, Fault

__all__ = ["main"]


def _config(
    servers: Sequence[FakeServer], hedging: HedgingConfig | None
) -> ClientConfig:
    return ClientConfig(
        providers=[
            ProviderConfig(name=f"p{i}", base_url=s.url, api_key="test-key", weight=1)
            for i, s in enumerate(servers)
        ],
        retry=RetryConfig(max_attempts=1),
        timeout=TimeoutConfig(per_attempt=5, total=10),
        rate_limit=None,
        hedging=hedging,
    )


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _run(
    servers: Sequence[FakeServer], hedging: HedgingConfig | None, calls: int, conc: int
) -> tuple[list[float], int]:
    for i, s in enumerate(servers):
        s.reset()
        s.set_faults([Fault("latency", delay=1.0, probability=0.05)], seed=100 + i)
    latencies: list[float] = []
    todo = iter(range(calls))
    async with AsyncClient(_config(servers, hedging)) as client:

        async def worker() -> None:
            for i in todo:
                t0 = time.perf_counter()
                await client.chat(
                    messages=[{"role": "user", "content": f"q{i}"}], model="m"
                )
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(conc)))
    upstream = sum(s.stats()["requests"] for s in servers)
    return latencies, upstream


def _run_sync(
    servers: Sequence[FakeServer], hedging: HedgingConfig | None, calls: int, conc: int
) -> tuple[list[float], int]:
    for i, s in enumerate(servers):
        s.reset()
        s.set_faults([Fault("latency", delay=1.0, probability=0.05)], seed=100 + i)
    latencies: list[float] = []
    with Client(_config(servers, hedging)) as client:

        def one(i: int) -> None:
            t0 = time.perf_counter()
            client.chat(messages=[{"role": "user", "content": f"q{i}"}], model="m")
            latencies.append(time.perf_counter() - t0)

        with ThreadPoolExecutor(max_workers=conc) as callers:
            list(callers.map(one, range(calls)))
    upstream = sum(s.stats()["requests"] for s in servers)
    return latencies, upstream


def main(argv: Sequence[str] | None = None) -> int:
    """Run both variants and print p50/p99 and upstream requests."""
    parser = argparse.ArgumentParser(prog="python -m bench.hedging")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.1, help="fixed hedging delay")
    args = parser.parse_args(argv)
    n, conc, delay = args.calls, args.concurrency, args.delay
    with FakeServer.start() as a, FakeServer.start() as b:
        servers = [a, b]
        rows = [
            ("async no hedging", asyncio.run(_run(servers, None, n, conc))),
            (
                f"async hedging {delay}s",
                asyncio.run(_run(servers, HedgingConfig(delay=delay), n, conc)),
            ),
            (
                "async hedging p90",
                asyncio.run(_run(servers, HedgingConfig(delay="p90"), n, conc)),
            ),
            ("sync no hedging", _run_sync(servers, None, n, conc)),
            (
                f"sync hedging {delay}s",
                _run_sync(servers, HedgingConfig(delay=delay), n, conc),
            ),
        ]
    print(f"{'variant':<22}{'p50 ms':>9}{'p99 ms':>9}{'upstream':>10}{'extra':>8}")
    for name, (lat, up) in rows:
        print(
            f"{name:<22}{_pct(lat, 0.5) * 1000:>9.1f}{_pct(lat, 0.99) * 1000:>9.1f}"
            f"{up:>10}{up / n - 1:>8.1%}"
        )
    ok = True
    for kind, base, fixed in (
        ("async", rows[0][1], rows[1][1]),
        ("sync", rows[3][1], rows[4][1]),
    ):
        gain = _pct(base[0], 0.99) / _pct(fixed[0], 0.99)
        extra = fixed[1] / n - 1
        ok = ok and gain >= 5 and extra <= 0.10
        print(
            f"{kind}: p99 without / with hedging {gain:.1f}x (target >= 5x);"
            f" extra requests {extra:.1%} (target <= 10%)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
