"""
Streams on both clients (the ``shell`` fixture) over the fake's in-process transports:
the answer, breaks after the first delta, and the breaker's verdict on every stream.
"""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import USER, config, fakes

from holysheep_client import (
    APIConnectionError,
    BreakerConfig,
    StreamInterruptedError,
    TimeoutConfig,
)
from holysheep_client.testing import Fault
from shells import Shell

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_stream_in_both_protocols(shell: Shell, protocol: str) -> None:
    """A stream's deltas join to the final text, with usage and stop reason."""
    fp = fakes("a", reply="one two three four")
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        s = await client.stream(messages=USER, model="m")
    assert s.error is None and s.final is not None
    assert len(s.deltas) > 1 and s.text == s.final.text == "one two three four"
    assert s.final.usage.output_tokens == 4 and s.final.stop_reason == "end_turn"


@pytest.mark.parametrize("kind", ["cut", "malformed_sse", "no_done"])
async def test_broken_stream_after_first_delta_raises_with_partial_text(
    shell: Shell, kind: str
) -> None:
    """A stream broken after its first delta raises StreamInterruptedError with the partial text."""
    fp = fakes("a", reply="one two three four five six")
    extra: dict[str, Any] = {"with_finish_reason": False} if kind == "no_done" else {}
    fp["a"].set_faults([Fault(kind, after_chunks=2, **extra)])  # type: ignore[arg-type]
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        s = await client.stream(messages=USER, model="m")
    assert isinstance(s.error, StreamInterruptedError)
    assert s.deltas and s.error.partial_text == s.text
    if kind != "no_done":
        assert s.text != "one two three four five six"


async def test_stalled_stream_raises_after_stream_idle(shell: Shell) -> None:
    """A stall longer than timeout.stream_idle is a break, never a silent success."""
    fp = fakes("a", reply="one two three four")
    fp["a"].set_faults([Fault("stall", after_chunks=1, delay=5.0)])
    cfg = config(("a", "openai"), timeout=TimeoutConfig(stream_idle=0.05))
    async with shell.client(cfg, fakes=fp) as client:
        s = await client.stream(messages=USER, model="m")
    assert isinstance(s.error, StreamInterruptedError)
    assert s.error.partial_text == s.text and s.text
    assert s.seconds < 2.0


async def test_a_stream_without_end_or_delta_is_an_error(shell: Shell) -> None:
    """A stream that ends with neither a delta nor an end marker raises, after failover."""
    fp = fakes("a", reply="one two")
    fp["a"].set_faults([Fault("no_done", with_finish_reason=False, after_chunks=0)])
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        fp["a"].reply = ""
        s = await client.stream(messages=USER, model="m")
    assert isinstance(s.error, APIConnectionError) and not s.deltas


async def test_breaker_judges_every_stream_cut_and_good_alike(shell: Shell) -> None:
    """Thirty cut streams alternating with thirty good ones never open the breaker."""
    fp = fakes("a", reply="one two three four five")
    cfg = config(("a", "anthropic"), circuit_breaker=BreakerConfig(fail_max=3))
    async with shell.client(cfg, fakes=fp) as client:
        for _ in range(30):
            fp["a"].set_faults([Fault("cut", after_chunks=2, times=1)])
            cut = await client.stream(messages=USER, model="m")
            assert isinstance(cut.error, StreamInterruptedError)
            good = await client.stream(messages=USER, model="m")
            assert good.error is None
        health = client.health().providers["a"]
        breaker = client.raw._state.providers["a"].breaker
    assert health.breaker == "closed" and breaker.fail_counter == 0
    assert (health.requests, health.errors) == (60, 30)
    fp["a"].set_faults([Fault("cut", after_chunks=2)])
    async with shell.client(cfg, fakes=fp) as client:
        for _ in range(3):
            assert (await client.stream(messages=USER, model="m")).error is not None
        assert client.health().providers["a"].breaker == "open"
