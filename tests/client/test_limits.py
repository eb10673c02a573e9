"""
Token limits and budgets on both clients, in virtual time: ``tokens_per_minute``
holds a burst back and is settled with the reported usage (given back when an
attempt gets no answer); a tenant over its daily budget is refused before sending
while another tenant goes on.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from client_helpers import KEY, config

from holysheep_client import (
    BaseHook,
    BudgetConfig,
    BudgetExceededError,
    ConfigError,
    ModelPrice,
    RateLimitConfig,
    RateLimitError,
    RateLimitWaitDetails,
)
from holysheep_client.testing import FakeClock, FakeProvider, Fault
from shells import Shell

pytestmark = pytest.mark.anyio

ASK = [{"role": "user", "content": "write the product copy"}]
# 100 words: the fake reports one output token a word.
COPY = " ".join(["word"] * 100)
START = datetime(2026, 12, 1, 9, tzinfo=UTC)


class Waits(BaseHook):
    """Records the token-limit waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def on_rate_limit_wait(self, details: RateLimitWaitDetails) -> None:
        if details.kind == "tokens":
            self.waits.append(details.waited)


def limited(per_minute: float, **kw: Any) -> Any:
    return config(
        ("a", "anthropic"),
        rate_limit=RateLimitConfig(
            requests_per_second=None, tokens_per_minute=per_minute
        ),
        **kw,
    )


async def test_tokens_per_minute_holds_a_burst_back(shell: Shell) -> None:
    """A burst using 10x the minute's tokens takes the minutes those tokens need."""
    clock = FakeClock(start=START)
    fake = FakeProvider(api_key=KEY, reply=COPY, clock=clock)
    hook = Waits()
    async with shell.client(
        limited(600), fakes={"a": fake}, clock=clock, hooks=[hook]
    ) as client:
        answers = await asyncio.gather(
            *(client.chat(messages=ASK, model="m", max_tokens=120) for _ in range(10))
        )
    used = sum(r.usage.input_tokens + r.usage.output_tokens for r in answers)
    assert used > 1000
    # 600 tokens at once, then 10 a second: at least (used - 600) / 10 seconds.
    assert clock.monotonic() >= (used - 600) / 10
    assert hook.waits and len(fake.requests) == 10


async def test_answered_calls_are_settled_with_their_usage(shell: Shell) -> None:
    """Reservations of input estimate plus max_tokens shrink to what was used."""
    clock = FakeClock(start=START)
    fake = FakeProvider(api_key=KEY, reply="short answer", clock=clock)
    hook = Waits()
    async with shell.client(
        limited(1000), fakes={"a": fake}, clock=clock, hooks=[hook]
    ) as client:
        # Each reserves over 500 tokens but uses a handful: with no settlement the
        # second call would wait half a minute.
        for _ in range(20):
            await client.chat(messages=ASK, model="m", max_tokens=500)
    assert hook.waits == []


async def test_an_attempt_without_an_answer_gives_its_tokens_back(
    shell: Shell,
) -> None:
    """A 503 and its retry reserve twice; the failed reservation returns in full."""
    clock = FakeClock(start=START)
    fake = FakeProvider(
        api_key=KEY,
        reply=COPY,
        clock=clock,
        faults=[Fault("status", status=503, times=1)],
    )
    hook = Waits()
    async with shell.client(
        limited(260), fakes={"a": fake}, clock=clock, hooks=[hook]
    ) as client:
        r = await client.chat(messages=ASK, model="m", max_tokens=120)
        assert r.attempts == 2
        # Kept, the failed attempt's ~130 tokens would leave too little for this one.
        await client.chat(messages=ASK, model="m", max_tokens=120)
    assert hook.waits == []


async def test_a_stream_closed_early_keeps_its_reservation(shell: Shell) -> None:
    """With the usage unknown, a stream left half-read stays charged in full."""
    clock = FakeClock(start=START)
    fake = FakeProvider(api_key=KEY, reply=COPY, clock=clock)
    hook = Waits()
    client = shell.client(limited(300), fakes={"a": fake}, clock=clock, hooks=[hook])
    raw = client.raw
    if shell.kind == "async":
        async with raw.stream(messages=ASK, model="m", max_tokens=200) as s:  # type: ignore[union-attr]
            async for _ in s.text_stream:
                break
    else:
        with raw.stream(messages=ASK, model="m", max_tokens=200) as s:  # type: ignore[union-attr]
            for _ in s.text_stream:
                break
    before = clock.monotonic()
    await client.chat(messages=ASK, model="m", max_tokens=200)
    await client.close()
    # The stream's 210 (estimate 10 + max_tokens 200) of 300 stay charged, so the
    # chat's 210 wait for 120 tokens at 5 a second: 24 s (settled, it would be 0).
    assert hook.waits == [pytest.approx(24.0)]
    assert clock.monotonic() - before >= hook.waits[0]


async def test_a_call_larger_than_the_bucket_is_refused_at_once(shell: Shell) -> None:
    """More than a minute's tokens can never fit: RateLimitError, nothing sent."""
    fake = FakeProvider(api_key=KEY)
    async with shell.client(limited(100), fakes={"a": fake}) as client:
        with pytest.raises(RateLimitError, match="100/min") as info:
            await client.chat(messages=ASK, model="m", max_tokens=500)
    assert info.value.status_code is None and fake.requests == []


def budget_config(**kw: Any) -> Any:
    # 1 USD per thousand output tokens: a 100-word answer costs about 0.10 USD.
    return config(
        ("a", "anthropic"),
        pricing={"m": ModelPrice(input=0.0, output=1000.0)},
        **kw,
    )


async def test_a_tenant_over_budget_is_refused_before_sending(shell: Shell) -> None:
    """acme spends its 0.15 USD and is refused with 0 requests; globex goes on."""
    clock = FakeClock(start=START)
    fake = FakeProvider(api_key=KEY, reply=COPY, clock=clock)
    cfg = budget_config(budgets=[BudgetConfig(usd_per_day=0.15, per_tag="tenant")])
    async with shell.client(cfg, fakes={"a": fake}, clock=clock) as client:
        acme = {"tenant": "acme"}
        for _ in range(2):  # 0.10, then 0.20: over
            await client.chat(messages=ASK, model="m", tags=acme)
        sent = len(fake.requests)
        with pytest.raises(BudgetExceededError) as info:
            await client.chat(messages=ASK, model="m", tags=acme)
        assert len(fake.requests) == sent, "refused before sending"
        other = await client.chat(messages=ASK, model="m", tags={"tenant": "globex"})
        untagged = await client.chat(messages=ASK, model="m")
        spend = client.health().budgets
        clock.set(START + timedelta(days=1) - timedelta(hours=9))  # next UTC midnight
        fresh = await client.chat(messages=ASK, model="m", tags=acme)
    err = info.value
    assert isinstance(err, RateLimitError) and err.status_code is None
    assert (err.tag, err.value) == ("tenant", "acme") and "acme" in str(err)
    assert other.provider == untagged.provider == fresh.provider == "a"
    assert spend["tenant"]["acme"] == pytest.approx(0.2)
    assert spend["tenant"]["globex"] == pytest.approx(0.1)


async def test_a_client_wide_budget_caps_every_call(shell: Shell) -> None:
    """``per_tag=None`` caps the client as a whole, tags or not."""
    fake = FakeProvider(api_key=KEY, reply=COPY)
    cfg = budget_config(budgets=[BudgetConfig(usd_per_day=0.05, per_tag=None)])
    async with shell.client(cfg, fakes={"a": fake}) as client:
        await client.chat(messages=ASK, model="m")
        with pytest.raises(BudgetExceededError) as info:
            await client.chat(messages=ASK, model="m", tags={"tenant": "acme"})
    assert info.value.tag is None and len(fake.requests) == 1


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RateLimitConfig(tokens_per_minute=0), "tokens_per_minute"),
        (lambda: RateLimitConfig(tokens_per_minute=-5), "tokens_per_minute"),
        (lambda: BudgetConfig(usd_per_day=0), "usd_per_day"),
        (lambda: BudgetConfig(usd_per_day=-1.0), "usd_per_day"),
        (lambda: BudgetConfig(usd_per_day=1, per_tag=""), "per_tag"),
        (
            lambda: budget_config(
                budgets=[BudgetConfig(usd_per_day=1), BudgetConfig(usd_per_day=2)]
            ),
            "budgets.1.per_tag",
        ),
    ],
)
def test_bad_limits_and_budgets_name_the_field(make: Any, field: str) -> None:
    """Zero, negative or duplicate limits and budgets raise ConfigError naming them."""
    with pytest.raises(ConfigError, match=field):
        make()


async def test_a_cancelled_call_gives_its_tokens_back() -> None:
    """An asyncio call cancelled while waiting for its answer returns its reservation.

    (A blocking `Client` call cannot be cancelled; its deadline ends an attempt with
    no answer, the give-back tested above.)
    """
    from holysheep_client import AsyncClient

    slow = FakeProvider(api_key=KEY, reply=COPY, latency=30.0)
    hook = Waits()
    async with AsyncClient(
        limited(260), transports={"a": slow.async_transport()}, hooks=[hook]
    ) as client:
        task = asyncio.create_task(client.chat(messages=ASK, model="m", max_tokens=120))
        while not slow.requests:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        slow.latency = 0.0
        # Two more 130-token calls fit in 260 only if the cancelled one gave its
        # tokens back; otherwise the second cannot fit before its 1 s deadline.
        for _ in range(2):
            await client.chat(messages=ASK, model="m", max_tokens=120, timeout=1.0)
    assert hook.waits == []
