"""
What the demo prints: progress lines, events, the per-phase table (cost, latency and
agreement) and one closing sentence per notable event; every line fits 100 columns,
colour only when asked.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["WIDTH", "DemoEvents", "PhaseStats", "Printer", "closing", "table"]

#: No line the demo prints is wider than this.
WIDTH = 100

_CODES = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "dim": "2"}


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
    shadow: int = 0
    agreements: list[float] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        """The mean agreement of this phase's shadow answers, or ``None``."""
        return sum(self.agreements) / len(self.agreements) if self.agreements else None


@dataclass
class DemoEvents:
    """
    The notable events of a run, in seconds since its start.
    """

    outage: tuple[float, float] | None = None
    breaker: list[tuple[float, str]] = field(default_factory=list)
    failover_times: list[float] = field(default_factory=list)
    held: tuple[float, str, str] | None = None  # when, which phase, why
    passed: tuple[float, str, float] | None = None  # when, which phase, held for
    fixed_at: float | None = None
    shadow_cost: float = 0.0
    shadow_skipped: int = 0


class Printer:
    """
    Writes lines to ``out``, wrapped to `WIDTH`, in colour only when ``colour`` is set.
    """

    def __init__(self, out: TextIO, *, colour: bool = False) -> None:
        self.out = out
        self.colour = colour

    def paint(self, text: str, style: str) -> str:
        """``text`` in ``style`` (a key of the ANSI codes), or unchanged without colour."""
        if not self.colour or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}\x1b[0m"

    def line(self, text: str = "", style: str | None = None, indent: str = "") -> None:
        """Print one logical line, wrapped to `WIDTH` columns."""
        lines = textwrap.wrap(
            text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  "
        ) or [""]
        for part in lines:
            print(self.paint(part, style) if style else part, file=self.out, flush=True)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def table(stats: Mapping[str, PhaseStats], p: Printer) -> None:
    """
    The per-phase table; its two header rows say what each column counts.
    """
    top = (
        f"{'':<9}{'answered calls':>17}{'latency ms':>13}{'caller':>9}"
        f"{'':>19}{'cost USD':>11}{'':>13}{'shadow':>8}"
    )
    head = (
        f"{'phase':<9}{'legacy':>7}{'holysheep':>10}{'p50':>6}{'p99':>7}"
        f"{'errors':>9}{'retries':>9}{'failovers':>10}{'actual':>11}"
        f"{'if all legacy':>15}{'agree':>7}"
    )
    p.line()
    p.line(
        "Per phase: calls answered by each provider, latency of the answered calls,"
        " errors that reached a caller, retries and failovers our stack made, what"
        " the calls cost against what they would have cost on legacy alone, and how"
        " far holysheep's shadow answers agreed with legacy's (the share of JSON"
        " fields equal)."
    )
    p.line(top.rstrip(), "bold")
    p.line(head, "bold")
    p.line("-" * len(head))
    for name, st in stats.items():
        p.line(
            f"{name:<9}{st.calls['legacy']:>7}{st.calls['holysheep']:>10}"
            f"{_pct(st.latencies, 0.5):>6.0f}{_pct(st.latencies, 0.99):>7.0f}"
            f"{st.errors:>9}{st.retries:>9}{st.failovers:>10}{st.cost:>11.5f}"
            f"{st.legacy_cost:>15.5f}{_agree(st):>7}"
        )


def _agree(st: PhaseStats) -> str:
    a = st.agreement
    return "-" if a is None else f"{a:.2f}"


def _gate_sentence(stats: Mapping[str, PhaseStats], events: DemoEvents) -> str:
    if events.held is None:
        return (
            "The gate: it never held a phase; holysheep's answers passed it at the end"
            " of each phase."
        )
    t, phase, why = events.held
    text = (
        f"The gate: at {t:.1f} s {phase}'s time was up but holysheep's answers failed"
        f" the gate ({why}), so {phase} held at its weight"
    )
    if events.passed is not None:
        t_pass, _, held_for = events.passed
        fixed = (
            f"; holysheep was fixed at {events.fixed_at:.1f} s"
            if events.fixed_at is not None
            else ""
        )
        later = [n for n in stats if n != phase and stats[n].agreement is not None]
        then = (
            f" {' and '.join(later)} then passed the gate at their ends."
            if later
            else ""
        )
        return (
            f"{text}{fixed}, and once agreement over the window passed, at"
            f" {t_pass:.1f} s, {phase} ended after holding {held_for:.1f} s;{then}"
        )
    return f"{text} until the end of the run."


def _breaker_sentence(events: DemoEvents, fail_max: int) -> str:
    opened = [t for t, state in events.breaker if state == "open"]
    if not opened:
        return (
            "The breaker: holysheep's never opened; it opens after"
            f" {fail_max} failed attempts in a row."
        )
    closed = [t for t, state in events.breaker if state == "closed" and t > opened[0]]
    trials = sum(1 for _, state in events.breaker if state == "half_open")
    end = (
        f" and closed at {closed[-1]:.1f} s once a trial call succeeded"
        if closed
        else " and was still open at the end"
    )
    return (
        f"The breaker: holysheep's opened at {opened[0]:.1f} s after {fail_max} failed"
        " attempts in a row, so its calls went straight to legacy with no request"
        f" sent; it let {trials} trial call{'s' if trials != 1 else ''} through{end}."
    )


def closing(
    stats: Mapping[str, PhaseStats],
    events: DemoEvents,
    p: Printer,
    *,
    cny: float,
    fail_max: int,
) -> None:
    """
    One sentence per notable event: the outage, the breaker, the (missing) rollback,
    and what callers saw and paid.
    """
    errors = sum(s.errors for s in stats.values())
    cost = sum(s.cost for s in stats.values())
    legacy = sum(s.legacy_cost for s in stats.values())
    failovers = sum(s.failovers for s in stats.values())
    p.line()
    if events.outage is not None:
        start, end = events.outage
        during = sum(1 for t in events.failover_times if start <= t <= end + 1.0)
        p.line(
            f"The outage: holysheep answered every call with a 503 from {start:.1f} s"
            f" to {end:.1f} s; {during} calls failed over to legacy meanwhile, so no"
            " caller saw it.",
            "yellow",
        )
    p.line(_breaker_sentence(events, fail_max), "yellow")
    p.line(_gate_sentence(stats, events), "yellow")
    shadow = sum(s.shadow for s in stats.values())
    p.line(
        f"Shadow traffic: {shadow} shadow calls went to holysheep off the callers'"
        f" path, and {events.shadow_skipped} sampled calls were skipped (at the"
        " max_in_flight cap, or refused by holysheep's open breaker); they cost"
        f" {events.shadow_cost:.5f} USD, counted apart from the table's costs.",
        "yellow",
    )
    p.line(
        "No rollback: the demo's migration has no rollback rule (rollback=None) so"
        " that it reaches 'full'; under the default rule (over 5% errors in 300 s)"
        f" its {failovers} failovers would have rolled holysheep back to weight 0.",
        "yellow",
    )
    saved = 1 - cost / legacy if legacy else 0.0
    p.line(
        f"Callers saw {errors} errors; the calls cost {cost:.5f} USD"
        f" ({cost * cny:.4f} CNY) against {legacy:.5f} USD ({legacy * cny:.4f} CNY)"
        f" had they all gone to legacy: {saved:.0%} saved.",
        "green" if errors == 0 else "red",
    )
