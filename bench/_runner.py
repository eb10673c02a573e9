"""
Run the benchmark: every variant at each concurrency, a few interleaved rounds, then
ratios against raw httpx2 measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

from holysheep_client.testing import FakeServer

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
    variant: Variant, origin: str, url: str, requests: int, concurrency: int
) -> tuple[float, float]:
    call, close = await variant.make(origin, url)
    try:
        await asyncio.gather(*(call() for _ in range(min(concurrency * 2, 100))))
        per_worker = requests // concurrency

        async def worker() -> None:
            for _ in range(per_worker):
                await call()

        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu1, wall1 = time.process_time(), time.perf_counter()
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


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _run(
    variants: list[Variant], concurrencies: list[int], requests: int, rounds: int
) -> tuple[dict[tuple[str, int], Sample], float]:
    results: dict[tuple[str, int], Sample] = {}
    with FakeServer.start() as server:
        for concurrency in concurrencies:
            n = requests if concurrency > 1 else max(requests // 2, 1)
            for round_no in range(rounds):
                order = variants if round_no % 2 == 0 else variants[::-1]
                for variant in order:
                    sample = results.setdefault((variant.key, concurrency), Sample())
                    if sample.error:
                        continue
                    try:
                        cpu, rate = asyncio.run(
                            _measure(variant, server.origin, server.url, n, concurrency)
                        )
                    except Exception as exc:  # a variant that cannot run is reported
                        sample.error = f"{type(exc).__name__}: {exc}"[:80]
                        continue
                    sample.cpu[round_no] = cpu
                    sample.rate[round_no] = rate
        rejection = asyncio.run(_open_breaker_rejection(server.url, 20_000))
    return results, rejection


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the benchmark and print the table; return 1 when a target is missed.
    """
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per variant, round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument(
        "--only", nargs="+", choices=[v.key for v in VARIANTS], help="variants to run"
    )
    args = parser.parse_args(argv)
    # The breaker measurement opens a breaker on purpose: keep its warning quiet.
    logging.getLogger("holysheep_client").setLevel(logging.ERROR)
    variants = [v for v in VARIANTS if not args.only or v.key in args.only]
    if not any(v.key == "raw" for v in variants):
        variants.insert(0, VARIANTS[0])
    print(
        f"python {platform.python_version()} on {platform.machine()},"
        f" {os.cpu_count()} CPUs; {args.requests} requests (half at concurrency 1)"
        f" x {args.rounds} interleaved rounds per variant"
    )
    results, rejection = _run(variants, args.concurrency, args.requests, args.rounds)
    import_ours = _import_time("holysheep_client")
    import_sdk = _import_time("anthropic")

    header = f"{'variant':34} {'conc':>4} {'req/s':>7} {'CPU us/req':>10} {'vs raw':>7}"
    print()
    print(header)
    print("-" * len(header))
    for concurrency in args.concurrency:
        raw = results[("raw", concurrency)]
        for variant in variants:
            sample = results[(variant.key, concurrency)]
            if sample.error or not sample.cpu:
                print(f"{variant.label:34} {concurrency:>4}  n/a ({sample.error})")
                continue
            print(
                f"{variant.label:34} {concurrency:>4}"
                f" {statistics.median(sample.rate.values()):>7.0f}"
                f" {statistics.median(sample.cpu.values()) * 1e6:>10.0f}"
                f" {_fmt_ratio(paired_ratio(sample, raw)):>7}"
            )
    print()
    print(f"open breaker rejection: {rejection * 1e6:.1f} us per call, no I/O")
    print(
        f"import holysheep_client: {import_ours * 1e3:.0f} ms;"
        f" import anthropic: {import_sdk * 1e3:.0f} ms"
        f" ({import_ours / import_sdk:.2f}x)"
    )

    top = max(args.concurrency)

    def ratio(a: str, b: str) -> float | None:
        x, y = results.get((a, top)), results.get((b, top))
        return None if x is None or y is None else paired_ratio(x, y)

    checks: list[tuple[str, float | None, float]] = [
        (f"full stack / bare pool (conc {top})", ratio("stack", "pool"), 1.05),
        (f"full stack / raw httpx2 (conc {top})", ratio("stack", "raw"), 1.10),
        (f"AsyncClient.chat / anthropic SDK (conc {top})", ratio("chat", "sdk"), 0.85),
        (
            f"chat with tools / plain chat (conc {top})",
            ratio("chat_tools", "chat"),
            1.10,
        ),
        ("open breaker rejection (us)", rejection * 1e6, 10.0),
        ("import holysheep_client / anthropic", import_ours / import_sdk, 0.25),
    ]
    print()
    failed = 0
    for name, value, target in checks:
        if value is None:
            verdict = "n/a"
        elif value <= target:
            verdict = "ok"
        else:
            verdict = "MISSED"
            failed += 1
        shown = "-" if value is None else f"{value:.3f}"
        print(f"{name:46} {shown:>7}  target <= {target:<5} {verdict}")
    return 1 if failed else 0
