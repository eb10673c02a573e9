"""
Run the benchmark: every variant at each concurrency, a few interleaved rounds, then
ratios against raw httpx2 measured in the same run; streams of 200 deltas against a
minimal SSE parse on raw httpx2; the profile of our share; memory per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from holysheep_client.testing import FakeServer

from ._paired import Paired, measure_pairs
from ._streams import REPLY, STREAM_VARIANTS, measure_stream, our_share
from ._variants import VARIANTS, Variant, bench_config

__all__ = ["main"]


@dataclass(slots=True)
class Sample:
    """Per round: CPU seconds per request and requests per second."""

    cpu: dict[int, float] = field(default_factory=dict)
    rate: dict[int, float] = field(default_factory=dict)
    error: str | None = None


def paired_ratio(a: Sample, b: Sample) -> float | None:
    """
    The median over rounds of ``a``'s CPU per request over ``b``'s in the same round.

    Pairing by round cancels the drift of a shared, noisy machine.
    """
    ratios = [a.cpu[r] / b.cpu[r] for r in a.cpu if r in b.cpu]
    return statistics.median(ratios) if ratios else None


async def _measure(
    variant: Variant,
    origin: str,
    url: str,
    requests: int,
    concurrency: int,
    profile: cProfile.Profile | None = None,
) -> tuple[float, float]:
    call, close = await variant.make(origin, url, concurrency)
    try:
        # Warm-up: every connection of the pool opened, at the same concurrency.
        await asyncio.gather(*(call() for _ in range(max(concurrency, 100))))
        per_worker = max(requests // concurrency, 2)

        async def worker() -> None:
            for _ in range(per_worker):
                await call()

        gc.collect()
        if profile is not None:
            profile.enable()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu1, wall1 = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.disable()
    finally:
        await close()
    done = per_worker * concurrency
    return (cpu1 - cpu0) / done, done / (wall1 - wall0)


async def _open_breaker_rejection(url: str, calls: int) -> float:
    """Seconds per call refused by an open breaker, through the whole stack."""
    import httpx2

    from holysheep_client import CircuitOpenError
    from holysheep_client._resilience.stack import build_transport_stack
    from holysheep_client._resilience.state import StackState

    def no_io(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("an open breaker must not reach the network")

    config = bench_config(url)
    state = StackState(config)
    stack = build_transport_stack(
        config, "fake", state=state, inner=httpx2.MockTransport(no_io)
    )
    breaker = state.providers["fake"].breaker
    while breaker.state != "open":
        breaker.report_failure()
    request = httpx2.Request("POST", f"{url}/messages", json={})
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            request.extensions.clear()
            with contextlib.suppress(CircuitOpenError):
                await stack.handle_async_request(request)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def _import_time(module: str, repeat: int = 5) -> float:
    code = (
        f"import time; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip()))
    return min(times)


Results = dict[tuple[str, int], Sample]


def _rounds(
    results: Results,
    variants: list[Variant],
    conc: int,
    rounds: int,
    run: Any,
) -> None:
    """Interleaved rounds (the order reversed every other one) of ``run(variant)``."""
    for round_no in range(rounds):
        order = variants if round_no % 2 == 0 else variants[::-1]
        for variant in order:
            sample = results.setdefault((variant.key, conc), Sample())
            if sample.error:
                continue
            try:
                cpu, rate = asyncio.run(run(variant))
            except Exception as exc:  # a variant that cannot run is reported
                sample.error = f"{type(exc).__name__}: {exc}"[:80]
                continue
            sample.cpu[round_no] = cpu
            sample.rate[round_no] = rate


def _profiled(run: Any, variant: Variant, cpu: float) -> float:
    """Our share of ``variant``'s CPU (seconds per unit), from one profiled run."""
    profile = cProfile.Profile()
    asyncio.run(run(variant, profile))
    return our_share(profile) * cpu


def _layers(
    args: argparse.Namespace, variants: list[Variant], server: FakeServer
) -> dict[str, Paired]:
    """
    The full stack against the bare pool in alternated pairs, and the bare pool
    against itself the same way (the control: how far from 1 noise alone reads).
    """
    keys = {v.key: v for v in variants}
    if not args.pairs or "stack" not in keys or "pool" not in keys:
        return {}
    got = {}
    for name, a in (("stack", keys["stack"]), ("control", keys["pool"])):
        got[name] = measure_pairs(
            a,
            keys["pool"],
            server.origin,
            server.url,
            pairs=args.pairs,
            calls=args.pair_requests,
            conc=50,
        )
    return got


def _run(args: argparse.Namespace, variants: list[Variant]) -> dict[str, Any]:
    results: Results = {}
    streams: Results = {}
    shares: dict[str, float] = {}
    profiled = [v for v in variants if v.key in ("chat", "chat_aio")]
    with FakeServer.start() as server:
        for conc in args.concurrency:
            n = args.requests if conc > 1 else max(args.requests // 2, 1)

            def call(v: Variant, p: Any = None, n: int = n, c: int = conc) -> Any:
                return _measure(v, server.origin, server.url, n, c, p)

            _rounds(results, variants, conc, args.rounds, call)
            if conc == 50:
                for v in profiled:
                    s = results[(v.key, conc)]
                    if s.cpu and not s.error:
                        med = statistics.median(s.cpu.values())
                        shares[v.key] = _profiled(call, v, med)
        rejection = asyncio.run(_open_breaker_rejection(server.url, 20_000))
        layers = _layers(args, variants, server)
    stream_variants = [v for v in STREAM_VARIANTS if v.key in args.streams_of]
    if stream_variants and args.stream_concurrency:
        with FakeServer.start(reply=REPLY) as server:
            for conc in args.stream_concurrency:

                def one(v: Variant, p: Any = None, c: int = conc) -> Any:
                    return measure_stream(
                        v, server.origin, server.url, args.streams, c, p
                    )

                _rounds(streams, stream_variants, conc, args.rounds, one)
                if conc == 50:
                    for v in stream_variants:
                        s = streams[(v.key, conc)]
                        if v.key.startswith("stream") and s.cpu and not s.error:
                            med = statistics.median(s.cpu.values())
                            shares[v.key] = _profiled(one, v, med)
    memory: dict[str, dict[str, Any]] = {}
    if args.memory_streams:
        from holysheep_client.testing import Fault

        from .memory import HOLD, measure_memory

        stall = Fault("stall", after_chunks=1, delay=120.0, match_model=HOLD)
        with FakeServer.start(reply=REPLY, faults=[stall]) as server:
            for v in stream_variants:
                memory[v.key] = measure_memory(v.key, server, args.memory_streams)
    return {
        "results": results,
        "streams": streams,
        "shares": shares,
        "memory": memory,
        "rejection": rejection,
        "layers": layers,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the benchmark and print the tables; return 1 when a target is missed.
    """
    from ._report import report

    keys = [v.key for v in VARIANTS]
    skeys = [v.key for v in STREAM_VARIANTS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per variant, round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--only", nargs="+", choices=keys, help="variants to run")
    parser.add_argument(
        "--stream-concurrency", type=int, nargs="*", default=[50], help="[] for none"
    )
    parser.add_argument("--streams", type=int, default=200, help="per variant, round")
    parser.add_argument("--streams-of", nargs="*", choices=skeys, default=skeys)
    parser.add_argument(
        "--memory-streams", type=int, default=1000, help="in flight at once; 0: skip"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=40,
        help="alternated pairs judging full stack / bare pool (conc 50); 0: skip",
    )
    parser.add_argument(
        "--pair-requests", type=int, default=500, help="calls per chunk of a pair"
    )
    args = parser.parse_args(argv)
    if 0 < args.pairs < 4:
        parser.error("--pairs must be 0 (skip) or at least 4 (for the spread)")
    # The breaker measurement opens a breaker on purpose: keep its warning quiet.
    logging.getLogger("holysheep_client").setLevel(logging.ERROR)
    variants = [v for v in VARIANTS if not args.only or v.key in args.only]
    if not any(v.key == "raw" for v in variants):
        variants.insert(0, VARIANTS[0])
    load = os.getloadavg()
    print(
        f"python {platform.python_version()} on {platform.machine()},"
        f" {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f};"
        f" {args.requests} requests (half at concurrency 1, at least 2 per worker)"
        f" x {args.rounds} interleaved rounds per variant;"
        f" {args.streams} streams of 200 deltas"
    )
    run = _run(args, variants)
    run["imports"] = (_import_time("holysheep_client"), _import_time("anthropic"))
    if any(v.key == "stack" for v in variants):
        from ._fixed import fixed_cost

        run["fixed"] = fixed_cost()
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return report(args, variants, run)
