"""
Per-call options on both clients against two loopback fake providers: a deadline, a
provider pin, attempts, extra headers, tags, and `with_options` views sharing state.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from router_helpers import two_providers

from holysheep_client import (
    APITimeoutError,
    BadRequestError,
    BaseHook,
    BreakerConfig,
    RequestDetails,
    RetryConfig,
    ServerError,
    TimeoutConfig,
)
from holysheep_client.testing import FakeServer, Fault
from shells import Shell, ShellClient

pytestmark = pytest.mark.anyio

MSGS = [{"role": "user", "content": "translate: bonjour"}]


def chats(server: FakeServer) -> list[Any]:
    return [r for r in server.requests() if r.endpoint == "chat"]


async def test_a_per_call_timeout_ends_a_slow_call_on_time(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """timeout=0.3 on a provider that answers in 3 s ends at about 0.3 s."""
    for s in servers.values():
        s.set_faults([Fault("latency", delay=3.0)])
    async with shell.client(two_providers(servers)) as client:
        out, took = await client.timed_chat(messages=MSGS, model="m", timeout=0.3)
    assert isinstance(out, APITimeoutError), out
    assert 0.3 <= took <= 0.8, took  # ~0.3 s; the slack is for a loaded machine


async def test_a_timeout_config_per_call_bounds_each_attempt(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A TimeoutConfig per call replaces the client's: per_attempt=0.2 gives up fast."""
    servers["holysheep"].set_faults([Fault("latency", delay=3.0)])
    async with shell.client(two_providers(servers)) as client:
        r, took = await client.timed_chat(
            messages=MSGS, model="m", timeout=TimeoutConfig(per_attempt=0.2, total=5),
            max_attempts=1,
        )  # fmt: skip
    assert not isinstance(r, BaseException) and r.provider == "legacy"
    assert took < 1.0


async def test_providers_pins_the_candidates(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """providers=['legacy'] sends every call there; failing, it does not fail over."""
    servers["legacy"].set_faults([Fault("status", status=503, times=2)])
    async with shell.client(two_providers(servers, holysheep_weight=100)) as client:
        with pytest.raises(ServerError):
            await client.chat(messages=MSGS, model="m", providers=["legacy"])
        for _ in range(2):
            r = await client.chat(messages=MSGS, model="m", providers=["legacy"])
            assert r.provider == "legacy"
    assert not chats(servers["holysheep"]) and len(chats(servers["legacy"])) == 4


async def test_max_attempts_per_call(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """max_attempts=1 tries a failing provider once before failing over."""
    servers["holysheep"].set_faults([Fault("status", status=503)])
    cfg = two_providers(
        servers,
        retry=RetryConfig(max_attempts=3, initial_backoff=0.01, max_backoff=0.01),
    )
    async with shell.client(cfg) as client:
        r = await client.chat(messages=MSGS, model="m", max_attempts=1)
    assert r.provider == "legacy" and len(chats(servers["holysheep"])) == 1


async def test_extra_headers_reach_every_provider_and_no_log(
    servers: dict[str, FakeServer], shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """Extra headers go to each provider of the call and never appear in a log line."""
    caplog.set_level(logging.DEBUG)
    servers["holysheep"].set_faults([Fault("status", status=503)])
    headers = {"anthropic-beta": "beta-secret-value-123"}
    async with shell.client(two_providers(servers)) as client:
        await client.chat(messages=MSGS, model="m", extra_headers=headers)
    for s in servers.values():
        assert {r.headers.get("anthropic-beta") for r in chats(s)} == {
            "beta-secret-value-123"
        }
    assert not [r for r in caplog.records if "beta-secret-value-123" in r.getMessage()]


class Tags(BaseHook):
    def __init__(self) -> None:
        self.seen: list[RequestDetails] = []

    def on_request(self, details: RequestDetails) -> None:
        self.seen.append(details)


async def test_a_view_shares_the_parents_breaker_and_merges_options(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A with_options view opens the parent's breaker, tags reach hooks, closing it closes nothing."""
    servers["holysheep"].set_faults([Fault("status", status=503)])
    hook = Tags()
    cfg = two_providers(
        servers, circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=60)
    )
    async with shell.client(cfg, hooks=[hook]) as client:
        view = client.raw.with_options(
            tags={"tenant": "acme"}, providers=["holysheep"], max_attempts=2
        )
        assert type(view) is type(client.raw)
        pinned = ShellClient.of(view)
        with pytest.raises(ServerError):  # the pin leaves no fallback
            await pinned.chat(messages=MSGS, model="m")
        assert client.health().providers["holysheep"].breaker == "open"
        await pinned.close()
        r = await client.chat(messages=MSGS, model="m", tags={"tenant": "globex"})
        assert r.provider == "legacy"
    assert [d.tags for d in hook.seen] == [{"tenant": "acme"}, {"tenant": "globex"}]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param({"providers": ["nope"]}, "providers", id="unknown-provider"),
        pytest.param({"tags": {"tenant": 42}}, "tags", id="tag-not-str"),
        pytest.param({"timeout": 0}, "timeout", id="zero-timeout"),
        pytest.param({"timeout": -1.0}, "timeout", id="negative-timeout"),
        pytest.param({"max_attempts": 0}, "max_attempts", id="zero-attempts"),
        pytest.param(
            {"extra_headers": {"Authorization": "Bearer x"}}, "auth", id="auth-override"
        ),
        pytest.param({"extra_headers": {"x-api-key": "k"}}, "auth", id="key-override"),
        pytest.param(
            {"extra_headers": {"x-bad": "a\r\nb"}}, "extra_headers", id="header-split"
        ),
    ],
)
async def test_bad_options_are_refused_naming_the_field(
    servers: dict[str, FakeServer], shell: Shell, kw: dict[str, Any], field: str
) -> None:
    """An invalid per-call option raises BadRequestError naming it, with nothing sent."""
    async with shell.client(two_providers(servers)) as client:
        with pytest.raises(BadRequestError, match=field):
            await client.chat(messages=MSGS, model="m", **kw)
    assert not any(chats(s) for s in servers.values())
