"""
Every script in examples/ runs offline against the fake provider and exits 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    """The example exits 0 and prints something."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()


def test_support_bot_finishes_its_tool_loop_on_the_other_protocol() -> None:
    """The OpenAI-protocol vendor fails mid-loop; the Anthropic relay finishes the turn
    with the same tool-call id, and takes the rest of the conversation."""
    path = next(p for p in EXAMPLES if p.stem == "support_bot_tool_loop")
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line.strip() for line in done.stdout.splitlines()]
    end = next(i for i, x in enumerate(lines) if x.startswith("holysheep took"))
    call = next(i for i, x in enumerate(lines) if '"B2002"' in x and "calls" in x)
    assert lines[call].startswith("legacy")
    call_id = lines[call].rsplit(" ", 1)[-1]
    assert call_id.startswith("call_")
    assert lines[call + 1].startswith("-- legacy goes down")
    assert lines[call + 3] == (
        "holysheep answers: Order B2002 is packed, leaving the warehouse today."
    )
    assert lines.index("legacy    answers: Order A1001 is shipped on 28 April,"
                       " arriving on 2 May.") < call  # fmt: skip
    after = lines[call + 3 : end]
    assert all(x.startswith(("customer", "tool", "holysheep")) for x in after)
    assert lines[end].endswith(
        f"a tool_use block {call_id} and a tool_result for {call_id}"
    )
    assert "legacy: received 5 requests, 3 answered, 2 failed; breaker open" in lines
