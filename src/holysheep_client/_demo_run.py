"""
The demo's run: the callers, the events (the relay fixed, its outage), the progress
lines, and the hook that counts what each phase saw and prints the gate's decisions.
"""

from __future__ import annotations

import asyncio
import random
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ._client.async_client import AsyncClient
from ._clock import SYSTEM_CLOCK
from ._config import ClientConfig
from ._cost import PriceTable
from ._demo_report import DemoEvents, PhaseStats, Printer
from ._observe.details import (
    BreakerTransition,
    GateDetails,
    RetryDetails,
    RouteDecision,
    ShadowDetails,
)
from ._observe.hooks import BaseHook
from .errors import HolySheepError

if TYPE_CHECKING:
    from .testing import FakeServer, Fault

__all__ = ["PHASES", "PROMPTS", "DemoHook", "DemoRun"]

PHASES = (("canary", 5.0), ("rolling", 25.0), ("majority", 75.0), ("full", 100.0))
PROMPTS = tuple(
    "Classify this review as JSON with keys sentiment and flagged: " + review
    for review in (
        "'Fast shipping, great fit.'",
        "'Lovely bamboo toothbrush, my kids use it daily.'",
        "'Arrived a day early and works as described.'",
    )
)

# The stats of the phase the current caller's call belongs to: hooks run inside the
# caller's task, so each retry is charged to its own call (a shared counter read
# before and after a call would also charge every concurrent caller's retries).
_CURRENT: ContextVar[PhaseStats | None] = ContextVar("demo_phase", default=None)


class DemoHook(BaseHook):
    """
    Counts retries, failovers and shadow answers per phase; prints breaker changes and
    the gate's decisions as they happen.
    """

    def __init__(
        self, stats: dict[str, PhaseStats], events: DemoEvents, printer: Printer
    ) -> None:
        self.stats = stats
        self.events = events
        self.printer = printer
        self.start = SYSTEM_CLOCK.monotonic()
        self.phase = PHASES[0][0]
        self.held = asyncio.Event()
        self.entered: dict[str, asyncio.Event] = {n: asyncio.Event() for n, _ in PHASES}
        self.entered[self.phase].set()
        self.entered_at: dict[str, float] = {self.phase: 0.0}

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

    def on_gate(self, details: GateDetails) -> None:
        t = self.elapsed()
        ev = self.events
        if details.decision == "held" and ev.held is None:
            ev.held = (t, details.phase or "", details.reason or "")
            self.printer.line(
                f"!! {t:4.1f}s the gate holds {details.phase} past its time:"
                f" {details.reason}",
                "red",
                indent="  ",
            )
            self.held.set()
        elif details.decision == "advanced" and details.phase is not None:
            previous = self.phase
            self.phase = details.phase
            self.entered_at[details.phase] = t
            after = ""
            if ev.held is not None and ev.held[1] == previous:
                ev.passed = (t, previous, t - ev.held[0])
                after = f", after holding {previous} {t - ev.held[0]:.1f} s"
            self.printer.line(
                f"!! {t:4.1f}s the gate passes: {details.phase} begins{after}",
                "green",
                indent="  ",
            )
            self.entered[details.phase].set()

    def on_shadow(self, details: ShadowDetails) -> None:
        stats = self.stats[self.phase]
        if details.outcome == "skipped":
            self.events.shadow_skipped += 1
            return
        stats.shadow += 1
        if details.agreement is not None:
            stats.agreements.append(details.agreement)
        self.events.shadow_cost += details.cost_usd or 0.0


async def _either(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


class DemoRun:
    """
    One run of the demo against its two servers.
    """

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
        self.hook = DemoHook(stats, events, printer)
        assert config.migration is not None and config.migration.started_at is not None
        lead = (config.migration.started_at - SYSTEM_CLOCK.now()).total_seconds()
        self.hook.start = SYSTEM_CLOCK.monotonic() + lead  # time 0: the first phase
        self.done = asyncio.Event()

    async def drive(
        self, concurrency: int, *, outage: bool, fixed: str, everyday: list[Fault]
    ) -> None:
        """
        Call until the last phase has run for one phase's time (or a hard cap).
        """
        rng = random.Random(self.seed)
        prices = PriceTable(self.config.pricing)
        hook = self.hook
        async with AsyncClient(
            self.config, hooks=[hook], rng=random.Random(self.seed)
        ) as client:

            async def caller(i: int) -> None:
                n = 0
                while not self.done.is_set():
                    st = self.stats[hook.phase]
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

            self.printer.line(
                f"Every {self._every():.1f} s: the time, the phase, then per provider"
                " its weight (its share of new calls), its breaker state and the"
                " requests sent to it so far (shadow calls not counted).",
                "dim",
            )
            await asyncio.gather(
                self._progress(client),
                self._fix(fixed),
                self._outage(outage, everyday),
                *(caller(i) for i in range(concurrency)),
            )

    def _every(self) -> float:
        return max(self.phase_seconds / 3, 0.2)

    async def _fix(self, fixed: str) -> None:
        await _either(self.hook.held, self.done)
        if self.done.is_set():
            return
        await asyncio.sleep(self.phase_seconds / 2)
        await asyncio.to_thread(self.relay.configure, reply=fixed)
        t = self.hook.elapsed()
        self.events.fixed_at = t
        self.printer.line(
            f"!! {t:4.1f}s holysheep is fixed: it now labels the reviews as legacy"
            " does; the gate judges the new answers as they enter its window",
            "yellow",
            indent="  ",
        )

    async def _outage(self, outage: bool, everyday: list[Fault]) -> None:
        from .testing import Fault

        majority = self.hook.entered["majority"]
        await _either(majority, self.done)
        if not outage or self.done.is_set():
            return
        await asyncio.sleep(self.phase_seconds * 0.2)
        await asyncio.to_thread(self.relay.set_faults, [Fault("status", status=503)])
        began = self.hook.elapsed()
        self.printer.line(
            f"!! {began:4.1f}s holysheep outage begins: every answer is a 503",
            "red",
            indent="  ",
        )
        await asyncio.sleep(self.phase_seconds * 0.4)
        await asyncio.to_thread(self.relay.set_faults, everyday)
        ended = self.hook.elapsed()
        self.events.outage = (began, ended)
        self.printer.line(f"!! {ended:4.1f}s holysheep is back", "green", indent="  ")

    async def _progress(self, client: AsyncClient) -> None:
        hook, every = self.hook, self._every()
        cap = self.phase_seconds * 8 + 4
        await asyncio.sleep(max(-hook.elapsed(), 0.0))
        while True:
            h = client.health()
            mig = h.migration
            parts = " | ".join(
                f"{name:<9} w={pr.weight:>3.0f} {pr.breaker:<9} {pr.requests:>4} req"
                for name, pr in h.providers.items()
            )
            phase = mig.phase if mig and mig.phase else "starting"
            if mig is not None and mig.held_since is not None:
                phase += " held"
            t = hook.elapsed()
            self.printer.line(f"{t:4.1f}s {phase:<13} {parts}", indent="  ")
            full = hook.entered_at.get("full")
            if (full is not None and t - full >= self.phase_seconds) or t >= cap:
                self.done.set()
                return
            await asyncio.sleep(every)
