"""
The demo: a migration from a slow, pricey vendor to a fast, cheap relay, with an
outage in the middle, on two fake providers served on loopback; no network, no keys.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from ._client.async_client import AsyncClient
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
from ._cost import PriceTable
from ._observe.details import RetryDetails, RouteDecision
from ._observe.hooks import BaseHook
from .errors import HolySheepError

if TYPE_CHECKING:
    from .testing import FakeServer, Fault

__all__ = ["PhaseStats", "main", "run_demo"]

PHASES = (("canary", 5.0), ("rolling", 25.0), ("majority", 75.0), ("full", 100.0))
PROMPTS = (
    "Classify the sentiment of this review: 'Fast shipping, great fit.'",
    "Write a one-line product description for a bamboo toothbrush.",
    "Translate to German: 'Your order has shipped.'",
)
REPLY = "Positive. Ships fast, fits well."
#: Not a secret: the fake servers accept exactly this.
DEMO_KEY = "demo-key-not-a-secret"


@dataclass
class PhaseStats:
    """
    What one phase saw, from the callers' side.
    """

    calls: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    retries: int = 0
    failovers: int = 0
    cost: float = 0.0
    legacy_cost: float = 0.0


# The stats of the phase the current caller's call belongs to: hooks run inside the
# caller's task, so each retry is charged to its own call (a shared counter read
# before and after a call would also charge every concurrent caller's retries).
_CURRENT: ContextVar[PhaseStats | None] = ContextVar("demo_phase", default=None)


class _Counting(BaseHook):
    def on_retry(self, details: RetryDetails) -> None:
        stats = _CURRENT.get()
        if stats is not None:
            stats.retries += 1

    def on_route(self, details: RouteDecision) -> None:
        stats = _CURRENT.get()
        if stats is not None and details.reason == "failover":
            stats.failovers += 1


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _relay_faults(error_rate: float) -> list[Fault]:
    from .testing import Fault

    return [Fault("status", status=503, probability=error_rate)] if error_rate else []


@contextlib.contextmanager
def _servers(
    seed: int, error_rate: float, tail_rate: float
) -> Iterator[tuple[FakeServer, FakeServer]]:
    from .testing import FakeServer, Fault

    tail = [Fault("latency", delay=0.6, probability=tail_rate)] if tail_rate else []
    with (
        FakeServer.start(
            api_key=DEMO_KEY, reply=REPLY, latency=0.35, faults=tail, seed=seed
        ) as legacy,
        FakeServer.start(
            api_key=DEMO_KEY,
            reply=REPLY,
            latency=0.035,
            faults=_relay_faults(error_rate),
            seed=seed + 1,
        ) as relay,
    ):
        yield legacy, relay


def demo_config(
    legacy_url: str, relay_url: str, *, phase_seconds: float, concurrency: int
) -> ClientConfig:
    """
    The demo's client configuration: the four phases compressed to ``phase_seconds``.
    """
    now = SYSTEM_CLOCK.now()
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url=legacy_url,
                protocol="openai",
                api_key=DEMO_KEY,
                weight=100,
                models={"default": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep",
                base_url=relay_url,
                protocol="anthropic",
                api_key=DEMO_KEY,
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


async def run_demo(
    *,
    phase_seconds: float = 3.0,
    concurrency: int = 16,
    outage: bool = True,
    error_rate: float = 0.05,
    tail_rate: float = 0.05,
    seed: int = 7,
    out: TextIO = sys.stdout,
) -> dict[str, PhaseStats]:
    """
    Run the compressed migration against two loopback fake servers; print the table.

    Args:
        phase_seconds: Length of each of the four phases.
        concurrency: Callers running at once.
        outage: Take holysheep down for part of the "majority" phase.
        error_rate: Share of holysheep answers that are 503s outside the outage.
        tail_rate: Share of legacy answers that take an extra 0.6 s (its heavy tail).
        seed: Seeds the fault injection, the prompts and the router.
        out: Where the progress and the table go.

    Returns:
        The statistics per phase.
    """
    stats = {name: PhaseStats() for name, _ in PHASES}
    with _servers(seed, error_rate, tail_rate) as (legacy, relay):
        config = demo_config(
            legacy.url, relay.url, phase_seconds=phase_seconds, concurrency=concurrency
        )
        await _drive(
            config,
            relay,
            stats,
            phase_seconds,
            concurrency,
            outage,
            error_rate,
            seed,
            out,
        )
    _table(stats, config.cny_per_usd, out)
    return stats


async def _drive(
    config: ClientConfig,
    relay: FakeServer,
    stats: dict[str, PhaseStats],
    phase_seconds: float,
    concurrency: int,
    outage: bool,
    error_rate: float,
    seed: int,
    out: TextIO,
) -> None:
    from .testing import Fault

    prices = PriceTable(config.pricing)
    rng = random.Random(seed)
    start = SYSTEM_CLOCK.now()
    deadline = start + timedelta(seconds=phase_seconds * 4)
    outage_from = start + timedelta(seconds=phase_seconds * 2.2)
    outage_to = start + timedelta(seconds=phase_seconds * 2.6)

    async with AsyncClient(
        config, hooks=[_Counting()], rng=random.Random(seed)
    ) as client:

        async def caller(i: int) -> None:
            n = 0
            while SYSTEM_CLOCK.now() < deadline:
                status = client.health().migration
                phase = status.phase if status and status.phase else "canary"
                st = stats[phase]
                _CURRENT.set(st)
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
                        prices.cost(
                            "gpt-4.1", r.usage.input_tokens, r.usage.output_tokens
                        )
                        or 0.0
                    )
                n += 1

        async def chaos() -> None:
            if not outage:
                return
            await asyncio.sleep((outage_from - SYSTEM_CLOCK.now()).total_seconds())
            await asyncio.to_thread(relay.set_faults, [Fault("status", status=503)])
            print(
                "  !! holysheep outage begins (every answer a 503)",
                file=out,
                flush=True,
            )
            await asyncio.sleep((outage_to - SYSTEM_CLOCK.now()).total_seconds())
            await asyncio.to_thread(relay.set_faults, _relay_faults(error_rate))
            print("  !! holysheep is back", file=out, flush=True)

        async def progress() -> None:
            while SYSTEM_CLOCK.now() < deadline:
                h = client.health()
                mig = h.migration
                line = "  ".join(
                    f"{name}: w={p.weight:>3.0f} breaker={p.breaker:<9} req={p.requests:<5}"
                    for name, p in h.providers.items()
                )
                phase = mig.phase if mig else "-"
                print(f"  [{phase:>8}] {line}", file=out, flush=True)
                await asyncio.sleep(max(phase_seconds / 3, 0.2))

        print(
            "Migrating legacy (OpenAI protocol, gpt-4.1) -> holysheep"
            " (Anthropic protocol, deepseek-v3.2) on loopback fake servers",
            file=out,
        )
        await asyncio.gather(
            progress(), chaos(), *(caller(i) for i in range(concurrency))
        )


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
        f"\nerrors seen by callers: {total.errors}; cost {total.cost:.5f} USD"
        f" ({total.cost * cny:.4f} CNY) vs {total.legacy_cost:.5f} USD"
        f" ({total.legacy_cost * cny:.4f} CNY) all-legacy ({saved:.0%} saved)",
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    ``python -m holysheep_client demo [--phase-seconds S] [--concurrency N] ...``.

    Returns:
        0 when no caller saw an error, else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m holysheep_client")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the offline migration demo")
    demo.add_argument(
        "--phase-seconds", type=float, default=3.0, help="length of each of 4 phases"
    )
    demo.add_argument("--concurrency", type=int, default=16, help="callers at once")
    demo.add_argument(
        "--no-outage", action="store_true", help="skip the mid-run holysheep outage"
    )
    demo.add_argument(
        "--error-rate", type=float, default=0.05, help="share of 503s from holysheep"
    )
    demo.add_argument(
        "--tail-rate",
        type=float,
        default=0.05,
        help="share of legacy answers 0.6 s slower",
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for faults and routing")
    args = parser.parse_args(argv)
    if (
        not 0 < args.phase_seconds <= 60
        or args.concurrency < 1
        or not 0 <= args.error_rate <= 1
        or not 0 <= args.tail_rate <= 1
    ):
        parser.error(
            "expected 0 < --phase-seconds <= 60, --concurrency >= 1,"
            " and rates between 0 and 1"
        )
    stats = asyncio.run(
        run_demo(
            phase_seconds=args.phase_seconds,
            concurrency=args.concurrency,
            outage=not args.no_outage,
            error_rate=args.error_rate,
            tail_rate=args.tail_rate,
            seed=args.seed,
        )
    )
    return 0 if sum(s.errors for s in stats.values()) == 0 else 1
