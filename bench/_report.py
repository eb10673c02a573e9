"""
The bench's tables and targets, from one run's samples (every ratio paired by round).
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from ._runner import Sample, paired_ratio
from ._streams import STREAM_VARIANTS
from ._variants import Variant

__all__ = ["report"]


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _table(
    results: dict[tuple[str, int], Sample],
    variants: list[Variant],
    concurrencies: list[int],
    base: str,
    unit: str,
) -> None:
    header = f"{'variant':36} {'conc':>4} {'/s':>8} {f'CPU us/{unit}':>12} {'vs ' + base:>10}"
    print()
    print(header)
    print("-" * len(header))
    for conc in concurrencies:
        ref = results.get((base, conc), Sample())
        for variant in variants:
            sample = results.get((variant.key, conc))
            if sample is None:
                continue
            if sample.error or not sample.cpu:
                print(f"{variant.label:36} {conc:>4}  n/a ({sample.error})")
                continue
            print(
                f"{variant.label:36} {conc:>4}"
                f" {statistics.median(sample.rate.values()):>8.0f}"
                f" {statistics.median(sample.cpu.values()) * 1e6:>12.1f}"
                f" {_fmt_ratio(paired_ratio(sample, ref)):>10}"
            )


#: raw httpx2's CPU per call at 50 in flight where issue 17's targets were set.
ISSUE_RAW_US = 722.0


def _checks(checks: list[tuple[str, float | None, float]]) -> int:
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
        print(f"{name:58} {shown:>8}  target <= {target:<5} {verdict}")
    return failed


def report(
    args: argparse.Namespace, variants: list[Variant], run: dict[str, Any]
) -> int:
    """
    Print every table and the targets; 1 when a target is missed.
    """
    results, streams = run["results"], run["streams"]
    shares, memory = run["shares"], run["memory"]
    _table(results, variants, args.concurrency, "raw", "req")
    if streams:
        svars = [v for v in STREAM_VARIANTS if v.key in args.streams_of]
        _table(streams, svars, args.stream_concurrency, "raw_sse", "delta")
    print()
    for key, seconds in shares.items():
        unit = "delta" if key.startswith("stream") else "call"
        print(
            f"our own code in {key} (profile, conc 50): {seconds * 1e6:.2f} us/{unit}"
        )
    for key, got in memory.items():
        if "error" in got:
            print(f"memory, {key}: n/a ({got['error']})")
            continue
        print(
            f"memory, {key}: {got['per_stream'] / 1024:.1f} KiB per in-flight stream"
            f" ({args.memory_streams} at once), peak RSS {got['peak'] / 2**20:.0f} MiB"
        )
    ours, sdk = run["imports"]
    print(f"open breaker rejection: {run['rejection'] * 1e6:.1f} us per call, no I/O")
    print(
        f"import holysheep_client: {ours * 1e3:.0f} ms; import anthropic:"
        f" {sdk * 1e3:.0f} ms ({ours / sdk:.2f}x)"
    )

    mid = 50 if 50 in args.concurrency else max(args.concurrency)
    top = max(args.concurrency)

    def ratio(
        a: str, b: str, conc: int = mid, other: int | None = None
    ) -> float | None:
        x = results.get((a, conc))
        y = results.get((b, conc if other is None else other))
        if x is None or y is None or x.error or y.error:
            return None
        return paired_ratio(x, y)

    def sratio(a: str, b: str) -> float | None:
        x, y = streams.get((a, 50)), streams.get((b, 50))
        return None if x is None or y is None else paired_ratio(x, y)

    share = shares.get("stream_aio")
    # The 2.5 us target was set where raw httpx2 cost ISSUE_RAW_US per call at 50
    # in flight; here the same work costs `speed` times that, and so does ours.
    raw50 = results.get(("raw", 50))
    speed = (
        statistics.median(raw50.cpu.values()) * 1e6 / ISSUE_RAW_US
        if raw50 is not None and raw50.cpu
        else None
    )
    if share is not None and speed is not None:
        print(
            f"this machine runs raw httpx2 at {speed:.2f}x the CPU of the issue's"
            f" ({ISSUE_RAW_US:.0f} us/call at conc 50): our share of a delta"
            f" {share * 1e6:.2f} us here is {share * 1e6 / speed:.2f} us there"
        )
    mem = memory.get("stream_aio", {}).get("per_stream")
    layers = ratio("stack_aio", "pool_aio")
    if layers is not None:
        print(
            f"full stack / bare pool on aiohttp (conc {mid}): {layers:.3f} (not a"
            " target: the layers' fixed cost over a pool a third of httpcore's)"
        )
    paired = run.get("layers", {})
    stack, control = paired.get("stack"), paired.get("control")
    rounds = ratio("stack", "pool")
    if stack is not None and control is not None:
        n = len(stack.ratios)
        print(
            f"full stack / bare pool, {n} alternated pairs of {args.pair_requests}"
            f" calls (conc 50): {stack.ratio:.3f} +- {stack.spread:.3f};"
            f" control, bare pool / itself: {control.ratio:.3f}"
            f" +- {control.spread:.3f}"
        )
        if rounds is not None:
            print(f"  (the same ratio from the rounds above: {rounds:.3f})")
    fixed, pool = run.get("fixed"), results.get(("pool", 50))
    if fixed is not None:
        bare, stacked = fixed
        weight = ""
        if pool is not None and pool.cpu:
            part = (stacked - bare) / statistics.median(pool.cpu.values())
            weight = f", {part * 100:.1f}% of the bare pool's CPU per call at conc 50"
        print(
            f"the layers' own cost, in memory: {(stacked - bare) * 1e6:.1f} us per call"
            f" (httpx2 alone {bare * 1e6:.1f}, under the stack {stacked * 1e6:.1f})"
            f"{weight}"
        )
    checks: list[tuple[str, float | None, float]] = [
        (
            "full stack / bare pool (conc 50, alternated pairs)"
            if stack is not None
            else f"full stack / bare pool (conc {mid})",
            stack.ratio if stack is not None else rounds,
            1.05,
        ),
        (
            "control: |bare pool / itself - 1| (alternated pairs)",
            None if control is None else abs(control.ratio - 1),
            0.03,
        ),
        (f"full stack / raw httpx2 (conc {mid})", ratio("stack", "raw"), 1.10),
        (f"AsyncClient.chat / anthropic SDK (conc {mid})", ratio("chat", "sdk"), 0.85),
        (
            f"chat with tools / plain chat (conc {mid})",
            ratio("chat_tools", "chat"),
            1.10,
        ),
        (
            f"chat with tools / plain chat, aiohttp pool (conc {mid})",
            ratio("chat_tools_aio", "chat_aio"),
            1.10,
        ),
        ("open breaker rejection (us)", run["rejection"] * 1e6, 10.0),
        ("import holysheep_client / anthropic", ours / sdk, 0.25),
        (
            f"chat(), aiohttp pool / raw httpx2 (conc {mid})",
            ratio("chat_aio", "raw"),
            0.5,
        ),
        (
            f"chat(), aiohttp pool: conc {top} / conc {mid}",
            ratio("chat_aio", "chat_aio", top, mid) if top != mid else None,
            1.5,
        ),
        (
            "stream, aiohttp pool / raw httpx2 SSE (conc 50)",
            sratio("stream_aio", "raw_sse"),
            0.7,
        ),
        (
            "our share of a delta, aiohttp pool (us, profile, at 722 us raw)",
            None if share is None or speed is None else share * 1e6 / speed,
            2.5,
        ),
        (
            "memory per in-flight stream, aiohttp pool (KiB)",
            None if mem is None else mem / 1024,
            40.0,
        ),
    ]
    return 1 if _checks(checks) else 0
