"""
Hedging on two loopback fake providers: a slow primary loses to the hedge, a fast one
is never hedged, and hedges are charged to the retry budget.
"""

from __future__ import annotations

import pytest
from router_helpers import REPLY, two_providers

from holysheep_client import AsyncClient, HedgingConfig, RetryConfig
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client.testing import FakeServer, Fault

MSGS = [{"role": "user", "content": "hedge me"}]


def chats(server: FakeServer) -> int:
    return sum(1 for r in server.requests() if r.endpoint == "chat")


@pytest.mark.anyio
async def test_slow_primary_loses_to_the_hedge(servers: dict[str, FakeServer]) -> None:
    """A primary slower than the delay is hedged; the hedge's answer wins, the loser is cancelled."""
    servers["holysheep"].set_faults([Fault("latency", delay=3.0)])
    cfg = two_providers(servers, hedging=HedgingConfig(delay=0.1))
    async with AsyncClient(cfg) as client:
        t0 = SYSTEM_CLOCK.monotonic()
        r = await client.chat(messages=MSGS, model="m")
        took = SYSTEM_CLOCK.monotonic() - t0
        assert client.health().providers["holysheep"].breaker == "closed"
        bulkhead = client._core.state.bulkhead
        assert bulkhead is not None and bulkhead.in_use == 0, (
            "the loser released its slot"
        )
    assert r.provider == "legacy" and r.text == REPLY
    assert took < 2.0
    assert chats(servers["holysheep"]) == 1 and chats(servers["legacy"]) == 1


@pytest.mark.anyio
async def test_fast_primary_is_not_hedged(servers: dict[str, FakeServer]) -> None:
    """An answer within the delay starts no hedge."""
    cfg = two_providers(servers, hedging=HedgingConfig(delay=1.0))
    async with AsyncClient(cfg) as client:
        for _ in range(5):
            assert (await client.chat(messages=MSGS, model="m")).provider == "holysheep"
    assert chats(servers["legacy"]) == 0


@pytest.mark.anyio
async def test_hedges_are_charged_to_the_retry_budget(
    servers: dict[str, FakeServer],
) -> None:
    """With an empty retry budget no hedge starts and the primary's answer is awaited."""
    servers["holysheep"].set_faults([Fault("latency", delay=0.4)])
    cfg = two_providers(
        servers,
        hedging=HedgingConfig(delay=0.05),
        retry=RetryConfig(max_attempts=1, budget_ratio=0, budget_min_retries=0),
    )
    async with AsyncClient(cfg) as client:
        r = await client.chat(messages=MSGS, model="m")
    assert r.provider == "holysheep" and chats(servers["legacy"]) == 0


@pytest.mark.anyio
async def test_stream_with_a_late_first_token_is_hedged(
    servers: dict[str, FakeServer],
) -> None:
    """A stream whose first token is late is hedged; the caller gets one clean answer."""
    servers["holysheep"].set_faults([Fault("slow_first_token", delay=3.0)])
    cfg = two_providers(servers, hedging=HedgingConfig(delay=0.1))
    async with AsyncClient(cfg) as client:
        t0 = SYSTEM_CLOCK.monotonic()
        async with client.stream(messages=MSGS, model="m") as s:
            deltas = [d async for d in s.text_stream]
            final = await s.get_final_response()
        took = SYSTEM_CLOCK.monotonic() - t0
        bulkhead = client._core.state.bulkhead
        assert bulkhead is not None and bulkhead.in_use == 0, (
            "the loser released its slot"
        )
    assert "".join(deltas) == final.text == REPLY
    assert final.provider == "legacy" and took < 2.0
