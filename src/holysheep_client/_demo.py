"""
The demo: a migration from a slow, pricey vendor to a fast, cheap relay, with an
outage in the middle, on built-in fake providers; no network, no keys.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

from ._client import AsyncClient
from ._clock import SYSTEM_CLOCK
from ._config import (
    BreakerConfig,
    ClientConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RetryConfig,
    TimeoutConfig,
)
from ._hooks import BaseHook, RetryDetails
from .errors import HolySheepError

__all__ = ["main", "run_demo"]

PHASES = (("canary", 5.0), ("rolling", 25.0), ("majority", 75.0), ("full", 100.0))
PROMPTS = (
    "Classify the sentiment of this review: 'Fast shipping, great fit.'",
    "Write a one-line product description for a bamboo toothbrush.",
    "Translate to German: 'Your order has shipped.'",
)


@dataclass
class PhaseStats:
    """What one phase saw, from the callers' side."""

    calls: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    retries: int = 0
    failovers: int = 0
    cost: float = 0.0
    legacy_cost: float = 0.0


class _Counting(BaseHook):
    def __init__(self) -> None:
        self.retries = 0

    def on_retry(self, details: RetryDetails) -> None:
        self.retries += 1


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def run_demo(
    *,
    phase_seconds: float = 3.0,
    concurrency: int = 16,
    outage: bool = True,
    error_rate: float = 0.05,
    seed: int = 7,
    out: TextIO = sys.stdout,
) -> dict[str, PhaseStats]:
    """
    Run the compressed migration and print the per-phase table.

    Args:
        phase_seconds: Length of each of the four phases.
        concurrency: Callers running at once.
        outage: Take holysheep down for part of the "majority" phase.
        error_rate: Share of holysheep answers that are 503s outside the outage.
        seed: Seeds the fault injection and the router.
        out: Where the progress and the table go.

    Returns:
        The statistics per phase.
    """
    from .testing import FakeProvider, Fault

    legacy = FakeProvider(
        reply="Positive. Ships fast, fits well.",
        model_map={},
        latency=0.35,
        faults=[Fault("latency", delay=0.5, probability=0.05)],
        seed=seed,
    )
    relay = FakeProvider(
        reply="Positive. Ships fast, fits well.",
        latency=0.03,
        faults=[Fault("status", status=503, probability=error_rate)]
        if error_rate
        else [],
        seed=seed + 1,
    )
    now = SYSTEM_CLOCK.now()
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://legacy.localhost/v1",
                protocol="openai",
                api_key="test-key",
                weight=100,
                models={"default": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://holysheep.localhost/v1",
                api_key="test-key",
                weight=0,
                models={"default": "deepseek-v3.2"},
            ),
        ],
        retry=RetryConfig(max_attempts=2, initial_backoff=0.02, max_backoff=0.1),
        circuit_breaker=BreakerConfig(fail_max=5, reset_timeout=phase_seconds / 3),
        timeout=TimeoutConfig(per_attempt=5.0, total=10.0),
        rate_limit=None,
        max_concurrent_requests=concurrency * 2,
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=now,
            phases=[
                MigrationPhase(
                    name=name, duration=phase_seconds if i < 3 else 0, weight=w
                )
                for i, (name, w) in enumerate(PHASES)
            ],
            rollback=None,
        ),
    )
    hook = _Counting()
    stats = {name: PhaseStats() for name, _ in PHASES}
    rng = random.Random(seed)
    async with AsyncClient(
        config,
        hooks=[hook],
        rng=random.Random(seed),
        transports={
            "legacy": legacy.async_transport(),
            "holysheep": relay.async_transport(),
        },
    ) as client:
        deadline = now + timedelta(seconds=phase_seconds * 4)
        outage_from = now + timedelta(seconds=phase_seconds * 2.2)
        outage_to = now + timedelta(seconds=phase_seconds * 2.6)
        state = {"down": False}

        async def caller(i: int) -> None:
            n = 0
            while SYSTEM_CLOCK.now() < deadline:
                t = SYSTEM_CLOCK.now()
                if outage and outage_from <= t < outage_to and not state["down"]:
                    state["down"] = True
                    relay.set_faults([Fault("status", status=503)])
                    print("  !! holysheep outage begins", file=out, flush=True)
                elif outage and t >= outage_to and state["down"]:
                    state["down"] = False
                    relay.set_faults(
                        [Fault("status", status=503, probability=error_rate)]
                    )
                    print("  !! holysheep is back", file=out, flush=True)
                status = client.health().migration
                phase = status.phase if status and status.phase else "canary"
                st = stats[phase]
                before = hook.retries
                try:
                    r = await client.chat(
                        messages=[{"role": "user", "content": rng.choice(PROMPTS)}],
                        model="default",
                        max_tokens=64,
                        route_key=f"user-{i}-{n}",
                    )
                except HolySheepError:
                    st.errors += 1
                else:
                    st.calls[r.provider] += 1
                    st.latencies.append(r.latency_ms)
                    st.cost += r.cost_usd or 0.0
                    st.legacy_cost += (
                        client._core.prices.cost(
                            "gpt-4.1", r.usage.input_tokens, r.usage.output_tokens
                        )
                        or 0.0
                    )
                    if r.provider != "holysheep" and r.attempts > 1:
                        st.failovers += 1
                st.retries += max(hook.retries - before, 0)
                n += 1

        async def progress() -> None:
            while SYSTEM_CLOCK.now() < deadline:
                h = client.health()
                mig = h.migration
                line = " ".join(
                    f"{name}: w={p.weight:.0f} breaker={p.breaker} req={p.requests}"
                    for name, p in h.providers.items()
                )
                phase = mig.phase if mig else "-"
                print(f"  [{phase:>8}] {line}", file=out, flush=True)
                await asyncio.sleep(max(phase_seconds / 2, 0.2))

        print("Migrating legacy (gpt-4.1) -> holysheep (deepseek-v3.2)", file=out)
        await asyncio.gather(progress(), *(caller(i) for i in range(concurrency)))
    _table(stats, config.cny_per_usd, out)
    return stats


def _table(stats: dict[str, PhaseStats], cny: float, out: TextIO) -> None:
    head = (
        f"{'phase':<9}{'legacy':>8}{'holysheep':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'retries':>9}{'failover':>9}{'cost USD':>10}{'cost CNY':>10}"
        f"{'all-legacy USD':>16}"
    )
    print("\n" + head, file=out)
    print("-" * len(head), file=out)
    total = PhaseStats()
    for name, st in stats.items():
        print(
            f"{name:<9}{st.calls['legacy']:>8}{st.calls['holysheep']:>10}"
            f"{_pct(st.latencies, 0.5):>9.0f}{_pct(st.latencies, 0.99):>9.0f}"
            f"{st.errors:>8}{st.retries:>9}{st.failovers:>9}{st.cost:>10.5f}"
            f"{st.cost * cny:>10.4f}{st.legacy_cost:>16.5f}",
            file=out,
        )
        total.errors += st.errors
        total.cost += st.cost
        total.legacy_cost += st.legacy_cost
    saved = 1 - total.cost / total.legacy_cost if total.legacy_cost else 0.0
    print(
        f"\nerrors seen by callers: {total.errors}; cost {total.cost:.5f} USD vs"
        f" {total.legacy_cost:.5f} USD all-legacy ({saved:.0%} saved)",
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    ``python -m holysheep_client demo [--phase-seconds S] [--concurrency N] ...``.
    """
    parser = argparse.ArgumentParser(prog="python -m holysheep_client")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the offline migration demo")
    demo.add_argument(
        "--phase-seconds", type=float, default=3.0, help="length of each phase"
    )
    demo.add_argument("--concurrency", type=int, default=16, help="callers at once")
    demo.add_argument(
        "--no-outage", action="store_true", help="skip the mid-run outage"
    )
    demo.add_argument(
        "--error-rate", type=float, default=0.05, help="share of 503s from holysheep"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for faults and routing")
    args = parser.parse_args(argv)
    if args.phase_seconds <= 0 or args.concurrency < 1 or not 0 <= args.error_rate <= 1:
        parser.error("--phase-seconds > 0, --concurrency >= 1, 0 <= --error-rate <= 1")
    stats = asyncio.run(
        run_demo(
            phase_seconds=args.phase_seconds,
            concurrency=args.concurrency,
            outage=not args.no_outage,
            error_rate=args.error_rate,
            seed=args.seed,
        )
    )
    return 0 if sum(s.errors for s in stats.values()) == 0 else 1
