"""
Streams across two loopback fake providers: failover before the first delta, typed
breaks after it, and seamless resume (prefill accepted, and prefill rejected).
"""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import REPLY, two_providers

from holysheep_client import AsyncClient, StreamInterruptedError, TimeoutConfig
from holysheep_client.testing import FakeServer, Fault

MSGS = [{"role": "user", "content": "tell me about the fox"}]


async def collect(client: AsyncClient, **kw: Any) -> tuple[list[str], str, str]:
    deltas: list[str] = []
    async with client.stream(messages=MSGS, model="m", **kw) as s:
        async for d in s.text_stream:
            deltas.append(d)
        final = await s.get_final_response()
    return deltas, final.text, final.provider


def chat_requests(server: FakeServer) -> list[Any]:
    return [r for r in server.requests() if r.endpoint == "chat"]


@pytest.mark.anyio
async def test_stream_fails_over_before_the_first_delta(
    servers: dict[str, FakeServer],
) -> None:
    """A 503 before any delta moves the stream to legacy; the caller sees one clean answer."""
    servers["holysheep"].set_faults([Fault("status", status=503)])
    async with AsyncClient(two_providers(servers)) as client:
        deltas, text, provider = await collect(client)
    assert "".join(deltas) == text == REPLY and provider == "legacy"


@pytest.mark.anyio
async def test_slow_first_token_fails_over(servers: dict[str, FakeServer]) -> None:
    """A first token later than timeout.first_token moves the stream to legacy."""
    servers["holysheep"].set_faults([Fault("slow_first_token", delay=3.0)])
    cfg = two_providers(servers, timeout=TimeoutConfig(first_token=0.3, total=10))
    async with AsyncClient(cfg) as client:
        deltas, text, provider = await collect(client)
    assert text == REPLY and provider == "legacy"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("cut", after_chunks=3), id="cut"),
        pytest.param(Fault("stall", after_chunks=3, delay=3.0), id="stall"),
    ],
)
async def test_break_after_first_delta_raises_with_partial_text(
    servers: dict[str, FakeServer], fault: Fault
) -> None:
    """A cut or a stall after the first delta raises with exactly the delivered text."""
    servers["holysheep"].set_faults([fault])
    cfg = two_providers(servers, timeout=TimeoutConfig(stream_idle=0.3, total=10))
    got: list[str] = []

    async def run() -> None:
        async with (
            AsyncClient(cfg) as client,
            client.stream(messages=MSGS, model="m") as s,
        ):
            async for d in s.text_stream:
                got.append(d)

    with pytest.raises(StreamInterruptedError) as info:
        await run()
    assert got and info.value.partial_text == "".join(got)
    assert (
        REPLY.startswith(info.value.partial_text) and info.value.partial_text != REPLY
    )
    assert not chat_requests(servers["legacy"]), "no resume without resume=True"


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["cut", "stall"])
async def test_resume_continues_seamlessly_with_a_prefill(
    servers: dict[str, FakeServer], kind: str
) -> None:
    """With resume=True the stream continues on legacy from an assistant prefill."""
    servers["holysheep"].set_faults([Fault(kind, after_chunks=4, delay=3.0)])  # type: ignore[arg-type]
    cfg = two_providers(servers, timeout=TimeoutConfig(stream_idle=0.3, total=10))
    async with AsyncClient(cfg) as client:
        deltas, text, provider = await collect(client, resume=True)
    assert "".join(deltas) == text == REPLY
    assert provider == "legacy"
    sent = chat_requests(servers["legacy"])[0].body["messages"]
    assert sent[-1]["role"] == "assistant" and REPLY.startswith(sent[-1]["content"])


@pytest.mark.anyio
async def test_resume_restarts_when_the_prefill_is_rejected(
    servers: dict[str, FakeServer],
) -> None:
    """A provider refusing the prefill is asked again without it and continues past the prefix."""
    servers["holysheep"].set_faults([Fault("cut", after_chunks=4)])
    servers["legacy"].set_faults([Fault("reject_prefill")])
    async with AsyncClient(two_providers(servers)) as client:
        deltas, text, provider = await collect(client, resume=True)
    assert "".join(deltas) == text == REPLY and provider == "legacy"
    legacy = chat_requests(servers["legacy"])
    assert [r.status for r in legacy] == [400, 200]
    assert legacy[1].body["messages"][-1]["role"] == "user"


@pytest.mark.anyio
async def test_resume_gives_up_when_the_restart_differs(
    servers: dict[str, FakeServer],
) -> None:
    """When the restarted answer does not begin with the delivered text, the break is raised."""
    servers["holysheep"].set_faults([Fault("cut", after_chunks=4)])
    servers["legacy"].set_faults([Fault("reject_prefill")])
    servers["legacy"].configure(reply="Something else entirely, said differently.")
    got: list[str] = []

    async def run() -> None:
        async with (
            AsyncClient(two_providers(servers)) as client,
            client.stream(messages=MSGS, model="m", resume=True) as s,
        ):
            async for d in s.text_stream:
                got.append(d)

    with pytest.raises(StreamInterruptedError) as info:
        await run()
    assert info.value.partial_text == "".join(got) and REPLY.startswith("".join(got))


@pytest.mark.parametrize(
    ("fault", "expect_provider"),
    [
        pytest.param(
            Fault("slow_first_token", delay=3.0), "legacy", id="slow-first-token"
        ),
        pytest.param(Fault("status", status=503), "legacy", id="503"),
    ],
)
def test_sync_stream_fails_over_before_the_first_delta(
    servers: dict[str, FakeServer], fault: Fault, expect_provider: str
) -> None:
    """The sync stream fails over before its first delta, the late token bounded by first_token."""
    from holysheep_client import Client

    servers["holysheep"].set_faults([fault])
    cfg = two_providers(servers, timeout=TimeoutConfig(first_token=0.3, total=10))
    with Client(cfg) as client, client.stream(messages=MSGS, model="m") as s:
        deltas = list(s.text_stream)
        final = s.get_final_response()
    assert "".join(deltas) == final.text == REPLY
    assert final.provider == expect_provider


def test_sync_stream_stall_after_first_delta_raises(
    servers: dict[str, FakeServer],
) -> None:
    """A sync stream stalled past stream_idle raises StreamInterruptedError with the partial text."""
    from holysheep_client import Client

    servers["holysheep"].set_faults([Fault("stall", after_chunks=3, delay=3.0)])
    cfg = two_providers(servers, timeout=TimeoutConfig(stream_idle=0.3, total=10))
    got: list[str] = []

    def run() -> None:
        with Client(cfg) as client, client.stream(messages=MSGS, model="m") as s:
            for d in s.text_stream:
                got.append(d)

    with pytest.raises(StreamInterruptedError) as info:
        run()
    assert got and info.value.partial_text == "".join(got) != REPLY
