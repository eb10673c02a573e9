"""
Shadow traffic benchmark: with a slow target (1 s per answer) and ``sample=1.0``, the
callers' p99 against a run without shadow traffic, and the shadow calls in flight at
the target against ``max_in_flight``, for `AsyncClient` (tasks) and for `Client`
(worker threads).

Run: ``python -m bench.shadow [--calls 600] [--concurrency 20] [--max-in-flight 8]``.
Two fake providers run on loopback in separate processes: the source answers in
150 ms, 5% of its answers 350 ms later (the same seeded tail in every run); the
target answers in 1 s. The migration is a dark launch (target weight 0), so every
caller is served by the source and only shadow calls reach the target. Each client
runs a short warm-up (not counted), then without shadow traffic, with it, and both
again; the p99s compared are over both runs of each kind. Exits 1 when, for either client, the p99 with shadow
traffic is more than 10% above the p99 without, or the target ever had more than
``max_in_flight`` calls at once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from holysheep_client import (
    AsyncClient,
    Client,
    ClientConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RetryConfig,
    ShadowConfig,
    TimeoutConfig,
)
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client.testing import FakeServer, Fault

__all__ = ["main"]

SOURCE_LATENCY, TAIL, TAIL_SHARE, TARGET_LATENCY = 0.15, 0.35, 0.05, 1.0


@dataclass
class Result:
    """One run: the callers' latencies, and what the target saw."""

    latencies: list[float]
    target_requests: int
    target_peak: int
    sent: int
    skipped: int


def _config(
    source: FakeServer, target: FakeServer, shadow: ShadowConfig | None, conc: int
) -> ClientConfig:
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy", base_url=source.url, api_key="test-key", weight=100,
                protocol="openai",
            ),
            ProviderConfig(
                name="holysheep", base_url=target.url, api_key="test-key", weight=0
            ),
        ],
        retry=RetryConfig(max_attempts=1),
        timeout=TimeoutConfig(per_attempt=5, total=10),
        rate_limit=None,
        max_concurrent_requests=conc * 2,
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=SYSTEM_CLOCK.now() - timedelta(seconds=1),
            phases=[MigrationPhase(name="dark", duration=0, weight=0)],
            rollback=None,
            shadow=shadow,
        ),
    )  # fmt: skip


def _reset(source: FakeServer, target: FakeServer) -> None:
    for s in (source, target):
        s.reset()
    source.set_faults([Fault("latency", delay=TAIL, probability=TAIL_SHARE)], seed=100)


def _result(
    latencies: list[float], target: FakeServer, client: AsyncClient | Client
) -> Result:
    stats = target.stats()
    status = client.health().migration
    shadow = status.shadow if status is not None else None
    return Result(
        latencies,
        stats["requests"],
        stats["max_in_flight"],
        shadow.sent if shadow else 0,
        shadow.skipped if shadow else 0,
    )


async def _run_async(
    source: FakeServer,
    target: FakeServer,
    shadow: ShadowConfig | None,
    calls: int,
    conc: int,
) -> Result:
    _reset(source, target)
    latencies: list[float] = []
    todo = iter(range(calls))
    async with AsyncClient(_config(source, target, shadow, conc)) as client:

        async def worker() -> None:
            for i in todo:
                t0 = time.perf_counter()
                await client.chat(
                    messages=[{"role": "user", "content": f"q{i}"}], model="m"
                )
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(conc)))
        await asyncio.sleep(TARGET_LATENCY + 0.2)  # the last shadow calls land
        return _result(latencies, target, client)


def _run_sync(
    source: FakeServer,
    target: FakeServer,
    shadow: ShadowConfig | None,
    calls: int,
    conc: int,
) -> Result:
    _reset(source, target)
    latencies: list[float] = []
    with Client(_config(source, target, shadow, conc)) as client:

        def one(i: int) -> None:
            t0 = time.perf_counter()
            client.chat(messages=[{"role": "user", "content": f"q{i}"}], model="m")
            latencies.append(time.perf_counter() - t0)

        with ThreadPoolExecutor(max_workers=conc) as callers:
            list(callers.map(one, range(calls)))
        time.sleep(TARGET_LATENCY + 0.2)
        return _result(latencies, target, client)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main(argv: Sequence[str] | None = None) -> int:
    """Run each client without and with shadow traffic; print p50/p99 and the target."""
    parser = argparse.ArgumentParser(prog="python -m bench.shadow")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--max-in-flight", type=int, default=8)
    args = parser.parse_args(argv)
    n, conc, cap = args.calls, args.concurrency, args.max_in_flight
    shadow = ShadowConfig(sample=1.0, comparator="exact", max_in_flight=cap)
    rows: list[tuple[str, Result]] = []
    with (
        FakeServer.start(reply="same", latency=SOURCE_LATENCY) as source,
        FakeServer.start(reply="same", latency=TARGET_LATENCY) as target,
    ):
        for kind in ("async", "sync"):
            if kind == "async":
                asyncio.run(_run_async(source, target, None, n // 4, conc))
            else:
                _run_sync(source, target, None, n // 4, conc)
            for _ in range(2):
                for variant, cfg in (("no shadow", None), ("shadow", shadow)):
                    if kind == "async":
                        r = asyncio.run(_run_async(source, target, cfg, n, conc))
                    else:
                        r = _run_sync(source, target, cfg, n, conc)
                    rows.append((f"{kind} {variant}", r))
    print(
        f"{'variant':<18}{'p50 ms':>9}{'p99 ms':>9}{'shadow sent':>13}{'skipped':>9}"
        f"{'target peak':>13}"
    )
    for name, r in rows:
        print(
            f"{name:<18}{_pct(r.latencies, 0.5) * 1000:>9.1f}"
            f"{_pct(r.latencies, 0.99) * 1000:>9.1f}{r.sent:>13}{r.skipped:>9}"
            f"{r.target_peak:>13}"
        )
    ok = True
    for kind in ("async", "sync"):
        base = [
            x for name, r in rows if name == f"{kind} no shadow" for x in r.latencies
        ]
        with_ = [x for name, r in rows if name == f"{kind} shadow" for x in r.latencies]
        ratio = _pct(with_, 0.99) / _pct(base, 0.99)
        peak = max(r.target_peak for name, r in rows if name.startswith(kind))
        ok = ok and ratio <= 1.10 and peak <= cap
        print(
            f"{kind}: p99 with / without shadow traffic {ratio:.3f} (target <= 1.10);"
            f" target peak in flight {peak} (max_in_flight {cap})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
