"""
Hedging on both clients across two loopback fake providers: a slow primary loses to the
hedge and releases its slot, a fast one is never hedged, hedges spend the retry budget.
"""

from __future__ import annotations

import asyncio

import pytest
from router_helpers import REPLY, two_providers

from holysheep_client import HedgingConfig, RetryConfig
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client.testing import FakeServer, Fault
from shells import Shell, ShellClient

pytestmark = pytest.mark.anyio

MSGS = [{"role": "user", "content": "hedge me"}]


def chats(server: FakeServer) -> int:
    return sum(1 for r in server.requests() if r.endpoint == "chat")


async def slots_released(client: ShellClient) -> bool:
    """Whether every bulkhead slot is free again (a sync loser ends in its own thread)."""
    bulkhead = client.raw._state.bulkhead
    assert bulkhead is not None
    end = SYSTEM_CLOCK.monotonic() + 2.0
    while bulkhead.in_use and SYSTEM_CLOCK.monotonic() < end:
        await asyncio.sleep(0.01)
    return bulkhead.in_use == 0


async def test_slow_primary_loses_to_the_hedge(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A primary slower than the delay is hedged; the hedge wins, the loser is stopped."""
    servers["holysheep"].set_faults([Fault("latency", delay=3.0)])
    cfg = two_providers(servers, hedging=HedgingConfig(delay=0.1))
    async with shell.client(cfg) as client:
        r, took = await client.timed_chat(messages=MSGS, model="m")
        assert await slots_released(client), "the loser released its slot"
        assert client.health().providers["holysheep"].breaker == "closed"
    assert not isinstance(r, BaseException)
    assert r.provider == "legacy" and r.text == REPLY
    assert took < 1.0
    assert chats(servers["holysheep"]) == 1 and chats(servers["legacy"]) == 1


async def test_fast_primary_is_not_hedged(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """An answer within the delay starts no hedge."""
    cfg = two_providers(servers, hedging=HedgingConfig(delay=1.0))
    async with shell.client(cfg) as client:
        for _ in range(5):
            assert (await client.chat(messages=MSGS, model="m")).provider == "holysheep"
    assert chats(servers["legacy"]) == 0


async def test_hedges_are_charged_to_the_retry_budget(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """With an empty retry budget no hedge starts and the primary's answer is awaited."""
    servers["holysheep"].set_faults([Fault("latency", delay=0.4)])
    cfg = two_providers(
        servers,
        hedging=HedgingConfig(delay=0.05),
        retry=RetryConfig(max_attempts=1, budget_ratio=0, budget_min_retries=0),
    )
    async with shell.client(cfg) as client:
        r = await client.chat(messages=MSGS, model="m")
    assert r.provider == "holysheep" and chats(servers["legacy"]) == 0


async def test_a_failed_primary_fails_over_inside_the_race(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A primary that fails before the delay fails over at once; nothing is hedged."""
    servers["holysheep"].set_faults([Fault("status", status=401)])
    cfg = two_providers(servers, hedging=HedgingConfig(delay=1.0))
    async with shell.client(cfg) as client:
        r, took = await client.timed_chat(messages=MSGS, model="m")
    assert not isinstance(r, BaseException) and r.provider == "legacy"
    assert took < 0.9


async def test_stream_with_a_late_first_token_is_hedged(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A stream whose first token is late is hedged; the caller gets one clean answer."""
    servers["holysheep"].set_faults([Fault("slow_first_token", delay=3.0)])
    cfg = two_providers(servers, hedging=HedgingConfig(delay=0.1))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
        assert await slots_released(client), "the loser released its slot"
    assert s.error is None and s.final is not None
    assert s.text == s.final.text == REPLY
    assert s.final.provider == "legacy" and s.seconds < 1.0
