"""
Streams on both clients across two loopback fake providers: failover before the first
delta, typed breaks after it, and seamless resume (prefill accepted, and rejected).
"""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import REPLY, two_providers

from holysheep_client import StreamInterruptedError, TimeoutConfig
from holysheep_client.testing import FakeServer, Fault
from shells import Shell

pytestmark = pytest.mark.anyio

MSGS = [{"role": "user", "content": "tell me about the fox"}]


def chat_requests(server: FakeServer) -> list[Any]:
    return [r for r in server.requests() if r.endpoint == "chat"]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("status", status=503), id="503"),
        pytest.param(Fault("slow_first_token", delay=3.0), id="slow-first-token"),
        pytest.param(Fault("latency", delay=3.0), id="no-headers"),
    ],
)
async def test_stream_fails_over_before_the_first_delta(
    servers: dict[str, FakeServer], shell: Shell, fault: Fault
) -> None:
    """A 503, a late first token or no headers before first_token move the stream to legacy."""
    servers["holysheep"].set_faults([fault])
    cfg = two_providers(servers, timeout=TimeoutConfig(first_token=0.3, total=10))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
    assert s.error is None and s.final is not None
    assert s.text == s.final.text == REPLY and s.final.provider == "legacy"
    assert s.seconds < 2.0


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("cut", after_chunks=3), id="cut"),
        pytest.param(Fault("stall", after_chunks=3, delay=3.0), id="stall"),
    ],
)
async def test_break_after_first_delta_raises_with_partial_text(
    servers: dict[str, FakeServer], shell: Shell, fault: Fault
) -> None:
    """A cut or a stall after the first delta raises with exactly the delivered text."""
    servers["holysheep"].set_faults([fault])
    cfg = two_providers(servers, timeout=TimeoutConfig(stream_idle=0.3, total=10))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m")
    assert isinstance(s.error, StreamInterruptedError)
    assert s.deltas and s.error.partial_text == s.text
    assert REPLY.startswith(s.text) and s.text != REPLY
    assert not chat_requests(servers["legacy"]), "no resume without resume=True"


@pytest.mark.parametrize("kind", ["cut", "stall"])
async def test_resume_continues_seamlessly_with_a_prefill(
    servers: dict[str, FakeServer], shell: Shell, kind: str
) -> None:
    """With resume=True the stream continues on legacy from an assistant prefill."""
    servers["holysheep"].set_faults([Fault(kind, after_chunks=4, delay=3.0)])  # type: ignore[arg-type]
    cfg = two_providers(servers, timeout=TimeoutConfig(stream_idle=0.3, total=10))
    async with shell.client(cfg) as client:
        s = await client.stream(messages=MSGS, model="m", resume=True)
    assert s.error is None and s.final is not None
    assert s.text == s.final.text == REPLY and s.final.provider == "legacy"
    sent = chat_requests(servers["legacy"])[0].body["messages"]
    assert sent[-1]["role"] == "assistant" and REPLY.startswith(sent[-1]["content"])


async def test_resume_restarts_when_the_prefill_is_rejected(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A provider refusing the prefill is asked again without it and continues past the prefix."""
    servers["holysheep"].set_faults([Fault("cut", after_chunks=4)])
    servers["legacy"].set_faults([Fault("reject_prefill")])
    async with shell.client(two_providers(servers)) as client:
        s = await client.stream(messages=MSGS, model="m", resume=True)
    assert s.error is None and s.final is not None
    assert s.text == s.final.text == REPLY and s.final.provider == "legacy"
    legacy = chat_requests(servers["legacy"])
    assert [r.status for r in legacy] == [400, 200]
    assert legacy[1].body["messages"][-1]["role"] == "user"


async def test_resume_gives_up_when_the_restart_differs(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """When the restarted answer does not begin with the delivered text, the break is raised."""
    servers["holysheep"].set_faults([Fault("cut", after_chunks=4)])
    servers["legacy"].set_faults([Fault("reject_prefill")])
    servers["legacy"].configure(reply="Something else entirely, said differently.")
    async with shell.client(two_providers(servers)) as client:
        s = await client.stream(messages=MSGS, model="m", resume=True)
    assert isinstance(s.error, StreamInterruptedError)
    assert s.error.partial_text == s.text and REPLY.startswith(s.text) and s.text


async def test_resume_raises_when_no_provider_is_healthy(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A break with every other provider failing raises StreamInterruptedError with the text so far."""
    servers["holysheep"].set_faults([Fault("cut", after_chunks=4)])
    servers["legacy"].set_faults([Fault("status", status=503)])
    async with shell.client(two_providers(servers)) as client:
        s = await client.stream(messages=MSGS, model="m", resume=True)
    assert isinstance(s.error, StreamInterruptedError)
    assert "no provider could resume" in str(s.error)
    assert s.error.partial_text == s.text and s.text
