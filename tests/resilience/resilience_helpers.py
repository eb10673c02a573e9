"""
Helpers shared by the resilience tests: configs, stacks over a handler, recorders.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx2

from holysheep_client import (
    BreakerConfig,
    ClientConfig,
    ProviderConfig,
    RateLimitConfig,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client._observe.hooks import BaseHook
from holysheep_client._resilience.stack import build_transport_stack
from holysheep_client._resilience.state import StackState
from holysheep_client.testing import FakeClock

URL = "http://127.0.0.1:9/v1/messages"
SECRET = "sk-test-never-print-me-0123456789"


def make_config(
    *,
    retry: dict[str, Any] | None = None,
    breaker: dict[str, Any] | None = None,
    rate: float | None = None,
    timeout: dict[str, Any] | None = None,
    max_concurrent: int | None = None,
    providers: tuple[str, ...] = ("p",),
) -> ClientConfig:
    """A one-provider config with quiet defaults: no rate limit, no bulkhead."""
    return ClientConfig(
        providers=[
            ProviderConfig(name=name, base_url="http://127.0.0.1:9/v1", api_key=SECRET)
            for name in providers
        ],
        retry=RetryConfig(**(retry or {})),
        circuit_breaker=BreakerConfig(**(breaker or {})),
        rate_limit=RateLimitConfig(requests_per_second=rate),
        timeout=TimeoutConfig(**(timeout or {})),
        max_concurrent_requests=max_concurrent,
    )


class Recorder(BaseHook):
    """Collects every hook call."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []
        self.retries: list[Any] = []
        self.breakers: list[Any] = []
        self.waits: list[Any] = []

    def on_attempt(self, details: Any) -> None:
        self.attempts.append(details)

    def on_retry(self, details: Any) -> None:
        self.retries.append(details)

    def on_breaker(self, details: Any) -> None:
        self.breakers.append((details.old_state, details.new_state))

    def on_rate_limit_wait(self, details: Any) -> None:
        self.waits.append(details)


def stack(
    config: ClientConfig,
    handler: Callable[[httpx2.Request], Any],
    *,
    clock: FakeClock | None = None,
    state: StackState | None = None,
    sync: bool = False,
    seed: int = 7,
    hooks: Any = None,
    provider: str = "p",
) -> Any:
    """The full stack for ``provider`` over a MockTransport running ``handler``."""
    clock = clock or FakeClock()
    return build_transport_stack(
        config,
        provider,
        state=state,
        sync=sync,
        clock=clock,
        rng=random.Random(seed),
        hooks=hooks,
        inner=httpx2.MockTransport(handler),
    )


def request(**extensions: Any) -> httpx2.Request:
    """A POST like the client's, with extensions."""
    return httpx2.Request(
        "POST",
        URL,
        headers={"x-api-key": SECRET},
        json={"model": "m", "messages": []},
        extensions=extensions,
    )


async def send(transport: Any, req: httpx2.Request | None = None) -> httpx2.Response:
    """Send through an async stack and read the body, like a client does."""
    response = await transport.handle_async_request(req or request())
    await response.aread()
    await response.aclose()
    return response


def send_sync(transport: Any, req: httpx2.Request | None = None) -> httpx2.Response:
    """Send through a sync stack and read the body."""
    response = transport.handle_request(req or request())
    response.read()
    response.close()
    return response
