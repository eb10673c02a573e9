"""
The demo runs in a shortened form and ends with the table and zero caller errors.
"""

from __future__ import annotations

import io

import pytest

from holysheep_client._demo import run_demo


@pytest.mark.anyio
async def test_short_demo_has_no_caller_errors() -> None:
    """A compressed run through all four phases, with the outage, shows zero caller errors."""
    out = io.StringIO()
    stats = await run_demo(phase_seconds=0.6, concurrency=6, out=out)
    text = out.getvalue()
    assert "errors seen by callers: 0" in text
    assert set(stats) == {"canary", "rolling", "majority", "full"}
    assert sum(s.errors for s in stats.values()) == 0
    assert stats["full"].calls["holysheep"] > 0
    calls = sum(sum(s.calls.values()) for s in stats.values())
    # Each retry is charged to its own call: about the 5% error rate, not inflated.
    assert sum(s.retries for s in stats.values()) < 0.2 * calls
    assert "holysheep outage begins" in text
