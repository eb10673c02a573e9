"""
Deadlines that hold on both clients against a loopback server that drips its answer one
byte at a time (a slow-loris upstream: every read gets a byte before its timeout).
"""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import two_providers

from holysheep_client import (
    APIConnectionError,
    APITimeoutError,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client.testing import FakeServer, Fault
from shells import Shell

pytestmark = pytest.mark.anyio

MSGS = [{"role": "user", "content": "tell me about the fox"}]
SLACK = 0.1  # the bar: every call ends within its bound plus 100 ms


def only_holysheep(servers: dict[str, FakeServer], **kw: Any) -> Any:
    kw.setdefault("retry", RetryConfig(max_attempts=1))
    cfg = two_providers(servers, **kw)
    return cfg.model_copy(update={"providers": cfg.providers[:1]})


@pytest.mark.parametrize("part", ["headers", "body"])
async def test_total_bounds_a_dripping_chat(
    servers: dict[str, FakeServer], shell: Shell, part: str
) -> None:
    """timeout.total=1 ends a chat whose headers or body drip at 20 bytes/s at 1 s."""
    servers["holysheep"].set_faults([Fault("drip", rate=20, drip=part)])  # type: ignore[arg-type]
    cfg = only_holysheep(servers, timeout=TimeoutConfig(per_attempt=30, total=1.0))
    async with shell.client(cfg) as client:
        out, took = await client.timed_chat(messages=MSGS, model="m")
    assert isinstance(out, APITimeoutError), out
    assert 0.9 <= took <= 1.0 + SLACK, took


@pytest.mark.parametrize("part", ["headers", "body"])
async def test_total_bounds_a_dripping_stream(
    servers: dict[str, FakeServer], shell: Shell, part: str
) -> None:
    """timeout.total=1 ends a stream whose headers or SSE drip at 50 bytes/s at 1 s."""
    servers["holysheep"].set_faults([Fault("drip", rate=50, drip=part)])  # type: ignore[arg-type]
    cfg = only_holysheep(servers, timeout=TimeoutConfig(per_attempt=30, total=1.0))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
    assert isinstance(s.error, APIConnectionError), s.error
    assert 0.9 <= s.seconds <= 1.0 + SLACK, s.seconds


@pytest.mark.parametrize(
    ("part", "attempts"),
    [("headers", 2), ("body", 1)],
    ids=["headers-retried", "body-not-retried"],
)
async def test_per_attempt_bounds_each_whole_attempt(
    servers: dict[str, FakeServer], shell: Shell, part: str, attempts: int
) -> None:
    """With total=None a drip ends within attempts x per_attempt plus the waits.

    A drip of the headers is retried (no answer came); a drip of a 200's body is
    not (the retry layer has handed the answer on), so it ends with one attempt.
    """
    servers["holysheep"].set_faults([Fault("drip", rate=20, drip=part)])  # type: ignore[arg-type]
    retry = RetryConfig(max_attempts=2, initial_backoff=0.05, max_backoff=0.05)
    cfg = only_holysheep(
        servers, retry=retry, timeout=TimeoutConfig(per_attempt=0.5, total=None)
    )
    async with shell.client(cfg) as client:
        out, took = await client.timed_chat(messages=MSGS, model="m")
    assert isinstance(out, APITimeoutError), out
    assert out.provider == "holysheep"
    bound = attempts * 0.5 + (attempts - 1) * 0.05
    assert attempts * 0.5 <= took <= bound + SLACK, took
    sent = sum(1 for r in servers["holysheep"].requests() if r.endpoint == "chat")
    assert sent == attempts


async def test_first_token_covers_the_wait_for_headers(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """first_token=1 ends a stream whose server never sends headers at 1 s, retries or not."""
    servers["holysheep"].set_faults([Fault("latency", delay=30.0)])
    retry = RetryConfig(max_attempts=3, initial_backoff=0.01, max_backoff=0.01)
    cfg = only_holysheep(
        servers, retry=retry, timeout=TimeoutConfig(per_attempt=30, first_token=1.0)
    )
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
    assert isinstance(s.error, APITimeoutError), s.error
    assert 0.9 <= s.seconds <= 1.0 + SLACK, s.seconds


async def test_first_token_fails_over_a_silent_provider(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A provider that never answers is given up after first_token; legacy serves the stream."""
    servers["holysheep"].set_faults([Fault("latency", delay=30.0)])
    cfg = two_providers(servers, timeout=TimeoutConfig(per_attempt=30, first_token=0.5))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
    assert s.error is None and s.final is not None and s.final.provider == "legacy"
    assert s.seconds <= 0.5 + 0.5, s.seconds
