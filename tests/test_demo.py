"""
The demo runs in a shortened form: the gate holds the canary on the relay's wrong JSON
and says why, passes once it is fixed, the phases advance; a table whose headers say
what they count, lines within 100 columns, one closing sentence per event, and colour
only when asked.
"""

from __future__ import annotations

import asyncio
import io
import re
import time

import pytest

from holysheep_client._cli import wants_colour
from holysheep_client._demo import run_demo
from holysheep_client._demo_report import WIDTH, PhaseStats, Printer

Run = tuple[dict[str, PhaseStats], str, float]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def demo_run() -> Run:
    """A compressed run through all four phases, with the outage, in colour (shared)."""
    out = io.StringIO()
    t0 = time.monotonic()
    stats = asyncio.run(
        run_demo(phase_seconds=0.6, concurrency=6, out=out, colour=True)
    )
    return stats, out.getvalue(), time.monotonic() - t0


def test_short_demo_has_no_caller_errors(demo_run: Run) -> None:
    """A compressed run through all four phases, with the outage, shows zero caller errors."""
    stats, text, _ = demo_run
    assert set(stats) == {"canary", "rolling", "majority", "full"}
    assert sum(s.errors for s in stats.values()) == 0
    assert stats["full"].calls["holysheep"] > 0
    calls = sum(sum(s.calls.values()) for s in stats.values())
    # Each retry is charged to its own call: about the 5% error rate, not inflated.
    assert sum(s.retries for s in stats.values()) < 0.2 * calls
    assert "Callers saw 0 errors" in ANSI.sub("", text)


def test_every_line_fits_100_columns(demo_run: Run) -> None:
    """No line of the demo's output, colour codes aside, is wider than 100 columns."""
    _, text, _ = demo_run
    widths = [len(line) for line in ANSI.sub("", text).splitlines()]
    assert widths
    assert max(widths) <= WIDTH


def test_headers_say_what_they_count(demo_run: Run) -> None:
    """The table's header rows name answered calls, latency, caller errors and costs."""
    _, text, _ = demo_run
    plain = ANSI.sub("", text)
    for words in (
        "answered calls",
        "latency ms",
        "caller",
        "cost USD",
        "if all legacy",
        "shadow",
        "agree",
    ):
        assert words in plain


@pytest.mark.parametrize(
    "opening",
    [
        "The outage: ",
        "The breaker: ",
        "The gate: ",
        "Shadow traffic: ",
        "No rollback: ",
        "Callers saw ",
    ],
    ids=["outage", "breaker", "gate", "shadow", "rollback", "summary"],
)
def test_one_closing_sentence_per_event(
    demo_run: Run,
    opening: str,
) -> None:
    """The run ends with exactly one sentence about each notable event."""
    _, text, _ = demo_run
    plain = ANSI.sub("", text)
    assert plain.count(opening) == 1


def test_the_gate_holds_the_canary_and_says_why(demo_run: Run) -> None:
    """The relay's wrong JSON holds the canary on agreement; once fixed, it advances."""
    stats, text, seconds = demo_run
    plain = ANSI.sub("", text)
    assert re.search(
        r"the gate holds canary past its time: agreement 0\.\d\d below"
        r" min_agreement 0\.90",
        plain,
    )
    assert "holysheep is fixed" in plain
    assert re.search(r"the gate passes: rolling begins, after holding canary", plain)
    assert (
        plain.index("holds canary")
        < plain.index("is fixed")
        < plain.index("rolling begins")
    )
    canary, rolling = stats["canary"].agreement, stats["rolling"].agreement
    assert canary is not None and rolling is not None
    assert canary < 0.9 <= rolling
    assert stats["full"].calls["holysheep"] > 0
    assert seconds < 30


def test_colour_codes_only_when_asked(demo_run: Run) -> None:
    """A run with colour=True carries ANSI codes; the Printer without it adds none."""
    _, text, _ = demo_run
    assert ANSI.search(text)
    plain = io.StringIO()
    Printer(plain).line("!! breaker open", "red")
    assert plain.getvalue() == "!! breaker open\n"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("out", "environ", "expected"),
    [
        pytest.param(_Tty(), {}, True, id="terminal"),
        pytest.param(_Tty(), {"NO_COLOR": "1"}, False, id="terminal-no-color"),
        pytest.param(_Tty(), {"NO_COLOR": ""}, True, id="empty-no-color-ignored"),
        pytest.param(io.StringIO(), {}, False, id="not-a-terminal"),
    ],
)
def test_colour_needs_a_terminal_and_no_no_color(
    out: io.StringIO, environ: dict[str, str], expected: bool
) -> None:
    """Colour is on only for a terminal, and NO_COLOR (when not empty) turns it off."""
    assert wants_colour(out, environ) is expected
