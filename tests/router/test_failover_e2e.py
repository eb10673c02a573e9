"""
Failover between two loopback fake providers: each trigger, and none on caller errors.
"""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import two_providers

from holysheep_client import (
    APIError,
    BadRequestError,
    BreakerConfig,
    ClientConfig,
    ContextLengthError,
    NotFoundError,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client.testing import FakeServer, Fault
from shells import Shell

MSGS = [{"role": "system", "content": "terse"}, {"role": "user", "content": "hi"}]


def chat_count(server: FakeServer) -> int:
    return sum(1 for r in server.requests() if r.endpoint == "chat")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "config_kw", "hs_requests"),
    [
        pytest.param(Fault("drop"), {}, 2, id="connection-error"),
        pytest.param(
            Fault("latency", delay=3.0),
            {"timeout": TimeoutConfig(per_attempt=0.2, total=10)},
            2,
            id="timeout",
        ),
        pytest.param(Fault("status", status=503), {}, 2, id="503-retries-spent"),
        pytest.param(
            Fault("status", status=429, retry_after=120),
            {},
            1,
            id="retry-after-too-long",
        ),
        pytest.param(Fault("bad_key"), {}, 1, id="401"),
        pytest.param(Fault("status", status=403), {}, 1, id="403"),
    ],
)
async def test_failover_triggers(
    servers: dict[str, FakeServer],
    shell: Shell,
    fault: Fault,
    config_kw: dict[str, Any],
    hs_requests: int,
) -> None:
    """Each failover trigger moves the call to legacy, after the retries it deserves."""
    servers["holysheep"].set_faults([fault])
    async with shell.client(two_providers(servers, **config_kw)) as client:
        r = await client.chat(messages=MSGS, model="deepseek-v3.2")
    assert r.provider == "legacy"
    assert r.attempts == hs_requests + 1
    assert chat_count(servers["holysheep"]) == hs_requests
    assert chat_count(servers["legacy"]) == 1


@pytest.mark.anyio
async def test_open_breaker_fails_over_without_io(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """Once holysheep's breaker is open, calls go to legacy with no request to holysheep."""
    servers["holysheep"].set_faults([Fault("status", status=503)])
    cfg = two_providers(
        servers,
        circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=60),
        retry=RetryConfig(max_attempts=2, initial_backoff=0, max_backoff=0),
    )
    async with shell.client(cfg) as client:
        await client.chat(messages=MSGS, model="m")
        assert client.health().providers["holysheep"].breaker == "open"
        before = chat_count(servers["holysheep"])
        r = await client.chat(messages=MSGS, model="m")
        assert client.health().ready
    assert r.provider == "legacy" and chat_count(servers["holysheep"]) == before


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (404, NotFoundError), (422, BadRequestError)],
    ids=["400", "404", "422"],
)
async def test_no_failover_on_caller_errors(
    servers: dict[str, FakeServer], shell: Shell, status: int, cls: type[APIError]
) -> None:
    """400/404/422 are raised at once: no retry, no failover."""
    servers["holysheep"].set_faults([Fault("status", status=status)])
    async with shell.client(two_providers(servers)) as client:
        with pytest.raises(cls):
            await client.chat(messages=MSGS, model="m")
    assert chat_count(servers["holysheep"]) == 1
    assert chat_count(servers["legacy"]) == 0


@pytest.mark.anyio
async def test_context_length_reaches_the_larger_model_once(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A context-length error is retried once with the larger alias, never resent unchanged."""
    servers["holysheep"].set_faults([Fault("context_length", match_model="small")])
    cfg: ClientConfig = two_providers(servers, context_fallbacks={"small": "big"})
    async with shell.client(cfg) as client:
        r = await client.chat(messages=MSGS, model="small")
    models = [q.model for q in servers["holysheep"].requests() if q.endpoint == "chat"]
    assert models == ["small", "big-model"]
    assert r.model == "big-model" and r.provider == "holysheep"
    assert chat_count(servers["legacy"]) == 0


@pytest.mark.anyio
async def test_context_length_without_fallback_is_raised(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """Without a context fallback the ContextLengthError reaches the caller, no failover."""
    servers["holysheep"].set_faults([Fault("context_length")])
    async with shell.client(two_providers(servers)) as client:
        with pytest.raises(ContextLengthError):
            await client.chat(messages=MSGS, model="small")
    assert chat_count(servers["legacy"]) == 0
