"""
Helpers for the shared-state tests: configs, a stack over the fake provider, and the
worker processes of the multi-process tests (run as ``python shared_helpers.py ...``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx2

from holysheep_client import (
    AsyncClient,
    BreakerConfig,
    BudgetConfig,
    BudgetExceededError,
    Client,
    ClientConfig,
    ModelPrice,
    ProviderConfig,
    RateLimitConfig,
    RetryConfig,
    SharedStateConfig,
)
from holysheep_client._resilience.stack import build_transport_stack
from holysheep_client._resilience.state import StackState
from holysheep_client.testing import DEFAULT_API_KEY, FakeProvider

PROVIDER = "p"


def make_config(
    url: str | None,
    *,
    rate: float | None = None,
    fail_max: int = 3,
    reset_timeout: float = 60.0,
    prefix: str = "t:",
    timeout: float = 0.05,
) -> ClientConfig:
    """One provider on the fake, no retries, shared state at ``url`` (None: off)."""
    return ClientConfig(
        providers=[
            ProviderConfig(
                name=PROVIDER, base_url=FakeProvider.url, api_key=DEFAULT_API_KEY
            )
        ],
        retry=RetryConfig(max_attempts=1),
        circuit_breaker=BreakerConfig(fail_max=fail_max, reset_timeout=reset_timeout),
        rate_limit=RateLimitConfig(requests_per_second=rate),
        shared_state=None
        if url is None
        else SharedStateConfig(url=url, prefix=prefix, timeout=timeout),
    )


def request() -> httpx2.Request:
    """A chat request as the client sends it."""
    return httpx2.Request(
        "POST",
        f"{FakeProvider.url}/messages",
        headers={"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"},
        json={
            "model": "m",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )


def fake_stack(config: ClientConfig, fake: FakeProvider) -> tuple[Any, StackState]:
    """An async stack for provider ``p`` over ``fake``'s in-process transport."""
    state = StackState(config)
    stack = build_transport_stack(
        config, PROVIDER, state=state, inner=fake.async_transport()
    )
    return stack, state


async def send(stack: Any) -> int:
    """One call through ``stack``; returns the status."""
    response = await stack.handle_async_request(request())
    await response.aread()
    await response.aclose()
    return int(response.status_code)


async def _rate_worker(url: str, rate: float, start: float, seconds: float) -> None:
    """Call as fast as the limits allow from ``start`` (epoch) for ``seconds``."""
    fake = FakeProvider()
    # A generous timeout: this measures the shared rate, not the fallback (a loaded
    # CI machine can take more than 50 ms to schedule a worker).
    stack, _ = fake_stack(make_config(url, rate=rate, timeout=0.5), fake)
    stamps: list[float] = []
    await asyncio.sleep(max(start - time.time(), 0.0))
    end = start + seconds

    async def caller() -> None:
        while time.time() < end:
            await send(stack)
            stamps.append(time.time())

    await asyncio.gather(*(caller() for _ in range(8)))
    await stack.aclose()
    print(json.dumps(stamps))


async def _breaker_probe(url: str) -> None:
    """One call on a healthy fake: print whether it failed fast and the fake's count."""
    from holysheep_client import CircuitOpenError

    fake = FakeProvider()
    stack, _ = fake_stack(make_config(url), fake)
    try:
        await send(stack)
        outcome = "sent"
    except CircuitOpenError:
        outcome = "circuit_open"
    await stack.aclose()
    print(json.dumps({"outcome": outcome, "requests": len(fake.requests)}))


#: The token workers' answer: ten words, ten output tokens.
TEN_WORDS = " ".join(["word"] * 10)
#: Prices making one ten-word answer cost 0.01 USD (1,000 USD per million out).
PRICES = {"m": ModelPrice(input=0.0, output=1000.0)}


def client_config(
    url: str,
    *,
    tokens_per_minute: float | None = None,
    budget: float | None = None,
    prefix: str = "t:",
) -> ClientConfig:
    """A client config for the token and budget workers: one provider, shared state."""
    return ClientConfig(
        providers=[
            ProviderConfig(
                name=PROVIDER, base_url=FakeProvider.url, api_key=DEFAULT_API_KEY
            )
        ],
        retry=RetryConfig(max_attempts=1),
        rate_limit=RateLimitConfig(
            requests_per_second=None, tokens_per_minute=tokens_per_minute
        ),
        budgets=[] if budget is None else [BudgetConfig(usd_per_day=budget)],
        pricing=PRICES,
        shared_state=SharedStateConfig(url=url, prefix=prefix, timeout=0.5),
    )


async def _tokens_worker(url: str, per_minute: float) -> None:
    """
    Say ``ready``, read ``start end`` (epoch) from stdin, chat flat out between them,
    then print (time, tokens) per call.
    """
    fake = FakeProvider(reply=TEN_WORDS)
    config = client_config(url, tokens_per_minute=per_minute)
    used: list[tuple[float, int]] = []
    async with AsyncClient(
        config, transports={PROVIDER: fake.async_transport()}, telemetry=False
    ) as client:
        print("ready", flush=True)
        start, end = map(float, (await asyncio.to_thread(sys.stdin.readline)).split())
        await asyncio.sleep(max(start - time.time(), 0.0))

        async def caller() -> None:
            while time.time() < end:
                r = await client.chat(messages=HI, model="m", max_tokens=10)
                used.append((time.time(), r.usage.input_tokens + r.usage.output_tokens))

        await asyncio.gather(*(caller() for _ in range(2)))
    print(json.dumps(used))


def _budget_probe(url: str, kind: str) -> None:
    """One call of tenant acme on a healthy fake: print the outcome and the count."""
    fake = FakeProvider(reply=TEN_WORDS)
    config = client_config(url, budget=0.015)
    tags = {"tenant": "acme"}
    try:
        if kind == "async":

            async def run() -> None:
                async with AsyncClient(
                    config, transports={PROVIDER: fake.async_transport()}
                ) as client:
                    await client.chat(messages=HI, model="m", tags=tags)

            asyncio.run(run())
        else:
            with Client(config, transports={PROVIDER: fake.sync_transport()}) as sync:
                sync.chat(messages=HI, model="m", tags=tags)
        outcome = "sent"
    except BudgetExceededError:
        outcome = "budget_exceeded"
    print(json.dumps({"outcome": outcome, "requests": len(fake.requests)}))


HI = [{"role": "user", "content": "hi"}]

if __name__ == "__main__":
    if sys.argv[1] == "rate":
        asyncio.run(
            _rate_worker(
                sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
            )
        )
    elif sys.argv[1] == "tokens":
        asyncio.run(_tokens_worker(sys.argv[2], float(sys.argv[3])))
    elif sys.argv[1] == "budget":
        _budget_probe(sys.argv[2], sys.argv[3])
    else:
        asyncio.run(_breaker_probe(sys.argv[2]))
