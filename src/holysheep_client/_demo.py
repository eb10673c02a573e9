"""
The demo: a migration from a slow, pricey vendor to a fast, cheap relay, with an
outage in the middle, on two fake providers served on loopback; no network, no keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
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
from ._demo_report import DemoEvents, PhaseStats, Printer, closing, table
from ._observe.details import BreakerTransition, RetryDetails, RouteDecision
from ._observe.hooks import BaseHook
from .errors import HolySheepError

if TYPE_CHECKING:
    from .testing import FakeServer, Fault

__all__ = ["PhaseStats", "demo_config", "run_demo"]

PHASES = (("canary", 5.0), ("rolling", 25.0), ("majority", 75.0), ("full", 100.0))
PROMPTS = (
    "Classify the sentiment of this review: 'Fast shipping, great fit.'",
    "Write a one-line product description for a bamboo toothbrush.",
    "Translate to German: 'Your order has shipped.'",
)
REPLY = "Positive. Ships fast, fits well."
#: Not a secret: the fake servers accept exactly this.
DEMO_KEY = "demo-key-not-a-secret"


# The stats of the phase the current caller's call belongs to: hooks run inside the
# caller's task, so each retry is charged to its own call (a shared counter read
# before and after a call would also charge every concurrent caller's retries).
_CURRENT: ContextVar[PhaseStats | None] = ContextVar("demo_phase", default=None)


class _Counting(BaseHook):
    def __init__(self, events: DemoEvents, printer: Printer) -> None:
        self.events = events
        self.printer = printer
        self.start = SYSTEM_CLOCK.monotonic()

    def elapsed(self) -> float:
        return SYSTEM_CLOCK.monotonic() - self.start

    def on_retry(self, details: RetryDetails) -> None:
        stats = _CURRENT.get()
        if stats is not None:
            stats.retries += 1

    def on_route(self, details: RouteDecision) -> None:
        stats = _CURRENT.get()
        if stats is not None and details.reason == "failover":
            stats.failovers += 1
            self.events.failover_times.append(self.elapsed())

    def on_breaker(self, details: BreakerTransition) -> None:
        t = self.elapsed()
        self.events.breaker.append((t, details.new_state))
        style = "red" if details.new_state == "open" else "yellow"
        self.printer.line(
            f"!! {t:4.1f}s {details.provider} breaker {details.old_state} ->"
            f" {details.new_state}",
            style,
            indent="  ",
        )


def _relay_faults(error_rate: float) -> list[Fault]:
    from .testing import Fault

    return [Fault("status", status=503, probability=error_rate)] if error_rate else []


@contextlib.contextmanager
def _servers(
    seed: int, error_rate: float, tail_rate: float
) -> Iterator[tuple[FakeServer, FakeServer]]:
    from .testing import FakeServer, Fault

    tail = [Fault("latency", delay=0.6, probability=tail_rate)] if tail_rate else []
    # Each server is a child process that takes about a second to answer: start
    # both at once.
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        legacy_f = pool.submit(
            FakeServer.start,
            api_key=DEMO_KEY,
            reply=REPLY,
            latency=0.35,
            faults=tail,
            seed=seed,
        )
        relay_f = pool.submit(
            FakeServer.start,
            api_key=DEMO_KEY,
            reply=REPLY,
            latency=0.035,
            faults=_relay_faults(error_rate),
            seed=seed + 1,
        )
        # Stop whichever started even when the other failed.
        for f in (legacy_f, relay_f):
            if f.exception() is None:
                stack.enter_context(f.result())
        yield legacy_f.result(), relay_f.result()


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
    phase_seconds: float = 2.0,
    concurrency: int = 16,
    outage: bool = True,
    error_rate: float = 0.05,
    tail_rate: float = 0.05,
    seed: int = 7,
    out: TextIO = sys.stdout,
    colour: bool = False,
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
        colour: Colour the output with ANSI codes (the CLI sets it only for a
            terminal, and never when ``NO_COLOR`` is set).

    Returns:
        The statistics per phase.
    """
    stats = {name: PhaseStats() for name, _ in PHASES}
    printer = Printer(out, colour=colour)
    events = DemoEvents()
    printer.line(
        "Migrating legacy (OpenAI protocol, gpt-4.1) to holysheep (Anthropic protocol,"
        " deepseek-v3.2) in 4 phases of"
        f" {phase_seconds:g} s, with {concurrency} callers, on two fake servers on"
        " loopback: no network, no keys.",
        "bold",
    )
    with _servers(seed, error_rate, tail_rate) as (legacy, relay):
        config = demo_config(
            legacy.url, relay.url, phase_seconds=phase_seconds, concurrency=concurrency
        )
        run = _Run(config, relay, stats, events, printer, phase_seconds, seed)
        await run.drive(concurrency, outage, error_rate)
    table(stats, printer)
    closing(
        stats,
        events,
        printer,
        cny=config.cny_per_usd,
        fail_max=config.circuit_breaker.fail_max,
    )
    return stats


class _Run:
    def __init__(
        self,
        config: ClientConfig,
        relay: FakeServer,
        stats: dict[str, PhaseStats],
        events: DemoEvents,
        printer: Printer,
        phase_seconds: float,
        seed: int,
    ) -> None:
        self.config = config
        self.relay = relay
        self.stats = stats
        self.events = events
        self.printer = printer
        self.phase_seconds = phase_seconds
        self.seed = seed

    async def drive(self, concurrency: int, outage: bool, error_rate: float) -> None:
        from .testing import Fault

        config, stats, p = self.config, self.stats, self.printer
        prices = PriceTable(config.pricing)
        rng = random.Random(self.seed)
        hook = _Counting(self.events, p)
        start = SYSTEM_CLOCK.now()
        deadline = start + timedelta(seconds=self.phase_seconds * 4)
        outage_from = start + timedelta(seconds=self.phase_seconds * 2.2)
        outage_to = start + timedelta(seconds=self.phase_seconds * 2.6)

        async with AsyncClient(
            config, hooks=[hook], rng=random.Random(self.seed)
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
                await asyncio.to_thread(
                    self.relay.set_faults, [Fault("status", status=503)]
                )
                began = hook.elapsed()
                p.line(
                    f"!! {began:4.1f}s holysheep outage begins: every answer is a 503",
                    "red",
                    indent="  ",
                )
                await asyncio.sleep((outage_to - SYSTEM_CLOCK.now()).total_seconds())
                await asyncio.to_thread(
                    self.relay.set_faults, _relay_faults(error_rate)
                )
                ended = hook.elapsed()
                self.events.outage = (began, ended)
                p.line(f"!! {ended:4.1f}s holysheep is back", "green", indent="  ")

            every = max(self.phase_seconds / 3, 0.2)

            async def progress() -> None:
                while SYSTEM_CLOCK.now() < deadline:
                    h = client.health()
                    mig = h.migration
                    parts = " | ".join(
                        f"{name:<9} w={pr.weight:>3.0f} {pr.breaker:<9} {pr.requests:>4} req"
                        for name, pr in h.providers.items()
                    )
                    phase = mig.phase if mig and mig.phase else "-"
                    p.line(f"{hook.elapsed():4.1f}s {phase:<8} {parts}", indent="  ")
                    await asyncio.sleep(every)

            p.line(
                f"Every {every:.1f} s: the time, the phase, then per provider its weight"
                " (its share of new calls), its breaker state and the requests sent to"
                " it so far.",
                "dim",
            )
            await asyncio.gather(
                progress(), chaos(), *(caller(i) for i in range(concurrency))
            )
