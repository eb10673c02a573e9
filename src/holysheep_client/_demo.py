"""
The demo: a migration from a slow, pricey vendor to a fast, cheap relay, judged by the
migration gate, with an outage in the middle, on two fake providers served on
loopback; no network, no keys.

The relay first answers the JSON task wrong (it labels positive reviews negative):
shadow calls show it, and the gate holds the canary and says why. The relay is then
fixed, the gate passes, and the phases advance.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from ._clock import SYSTEM_CLOCK
from ._config import (
    BreakerConfig,
    ClientConfig,
    GateConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RetryConfig,
    ShadowConfig,
    TimeoutConfig,
)
from ._demo_report import DemoEvents, PhaseStats, Printer, closing, table
from ._demo_run import PHASES, DemoRun

if TYPE_CHECKING:
    from .testing import FakeServer, Fault

__all__ = ["RIGHT", "WRONG", "PhaseStats", "demo_config", "run_demo"]

#: The JSON answer legacy gives (and the relay once fixed).
RIGHT = '{"sentiment": "positive", "flagged": false}'
#: The relay's answer before the fix: the wrong label.
WRONG = '{"sentiment": "negative", "flagged": false}'
#: Not a secret: the fake servers accept exactly this.
DEMO_KEY = "demo-key-not-a-secret"


def relay_faults(error_rate: float) -> list[Fault]:
    """The relay's everyday 503s."""
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
            reply=RIGHT,
            latency=0.35,
            faults=tail,
            seed=seed,
        )
        relay_f = pool.submit(
            FakeServer.start,
            api_key=DEMO_KEY,
            reply=WRONG,
            latency=0.035,
            faults=relay_faults(error_rate),
            seed=seed + 1,
        )
        # Stop whichever started even when the other failed.
        for f in (legacy_f, relay_f):
            if f.exception() is None:
                stack.enter_context(f.result())
        yield legacy_f.result(), relay_f.result()


#: Seconds from building the client to the first phase: its pools are built and its
#: callers' first calls under way before the canary's clock runs.
LEAD = 0.5


async def _warm_up(legacy_url: str, relay_url: str) -> None:
    """Load what a first call loads and reach both servers once, off the clock."""
    from ._client.async_client import AsyncClient

    config = demo_config(legacy_url, relay_url, phase_seconds=1.0, concurrency=1)
    async with AsyncClient(config.model_copy(update={"migration": None})) as client:
        for name in ("legacy", "holysheep"):
            await client.models(name)


def demo_gate(phase_seconds: float, concurrency: int) -> GateConfig:
    """
    The demo's gate: agreement, latency and cost judged over a window of at least
    1.5 s (the seed's is an hour), on as many samples as a canary can gather.
    """
    return GateConfig(
        min_agreement=0.9,
        max_latency_p95=1.0,
        max_cost_ratio=0.5,
        min_samples=max(4, min(20, round(concurrency * phase_seconds))),
        window=max(phase_seconds, 1.5),
        on_fail="hold",
    )


def demo_config(
    legacy_url: str, relay_url: str, *, phase_seconds: float, concurrency: int
) -> ClientConfig:
    """
    The demo's client configuration: the four phases compressed to ``phase_seconds``
    (the first begins `LEAD` seconds from now), every call legacy serves shadowed to
    holysheep, and the gate of `demo_gate`.
    """
    now = SYSTEM_CLOCK.now() + timedelta(seconds=LEAD)
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
            gate=demo_gate(phase_seconds, concurrency),
            shadow=ShadowConfig(
                sample=1.0, comparator="json_fields", max_in_flight=concurrency
            ),
        ),
    )


async def run_demo(
    *,
    phase_seconds: float = 1.5,
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
        phase_seconds: Length of each of the four phases (a held phase lasts longer).
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
        f" deepseek-v3.2) in 4 phases of {phase_seconds:g} s, with {concurrency}"
        " callers, on two fake servers on loopback: no network, no keys. Every call"
        " legacy answers is also sent to holysheep off the callers' path (shadow"
        " traffic), and a gate judges holysheep's answers before each phase ends.",
        "bold",
    )
    with _servers(seed, error_rate, tail_rate) as (legacy, relay):
        await _warm_up(legacy.url, relay.url)
        config = demo_config(
            legacy.url, relay.url, phase_seconds=phase_seconds, concurrency=concurrency
        )
        run = DemoRun(config, relay, stats, events, printer, phase_seconds, seed)
        await run.drive(
            concurrency,
            outage=outage,
            fixed=RIGHT,
            everyday=relay_faults(error_rate),
        )
    table(stats, printer)
    closing(
        stats,
        events,
        printer,
        cny=config.cny_per_usd,
        fail_max=config.circuit_breaker.fail_max,
    )
    return stats
