"""
Every fault kind, observed through the in-process transports in virtual time.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
import pytest

from holysheep_client.testing import DEFAULT_REPLY, FakeClock, FakeProvider, Fault

KEY = "test-key"
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
OPENAI = {"authorization": f"Bearer {KEY}"}
USER = [{"role": "user", "content": "hi"}]
ANTHROPIC_BODY = {"model": "m", "max_tokens": 50, "messages": USER}
OPENAI_BODY = {"model": "m", "messages": USER}


def fake(*faults: Fault, **kw: Any) -> tuple[FakeProvider, FakeClock]:
    """A provider on a fresh FakeClock with these faults."""
    clock = FakeClock()
    return FakeProvider(faults=faults, clock=clock, **kw), clock


def async_client(provider: FakeProvider, **kw: Any) -> httpx2.AsyncClient:
    """An httpx2 async client on the provider's transport."""
    return httpx2.AsyncClient(
        transport=provider.async_transport(), base_url=provider.url, **kw
    )


def deltas(lines: list[str]) -> str:
    """The text of the Anthropic text deltas among raw SSE lines."""
    out = []
    for line in lines:
        if line.startswith("data: ") and "text_delta" in line:
            out.append(json.loads(line[6:])["delta"]["text"])
    return "".join(out)


async def read_lines(response: httpx2.Response, into: list[str]) -> None:
    """Append the response's lines to ``into`` as they arrive."""
    async for line in response.aiter_lines():
        into.append(line)


@pytest.mark.anyio
async def test_status_fault_sends_retry_after_seconds_and_ms() -> None:
    """A status fault answers its status with Retry-After, retry-after-ms, x-should-retry."""
    fault = Fault(
        "status",
        status=429,
        retry_after=2,
        retry_after_ms=1500,
        should_retry=True,
        times=1,
    )
    provider, _ = fake(fault)
    async with async_client(provider) as c:
        r = await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)
        again = await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("2", "1500")
    assert r.headers["x-should-retry"] == "true"
    assert again.status_code == 200
    assert provider.stats()["faults_applied"] == 1


@pytest.mark.anyio
async def test_status_fault_sends_an_http_date_from_the_clock() -> None:
    """retry_after_date is rendered as an HTTP-date that many seconds after the clock's now."""
    provider, clock = fake(
        Fault("status", status=503, retry_after_date=3, should_retry=False)
    )
    clock.advance(10)
    async with async_client(provider) as c:
        r = await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "Thu, 01 Jan 2026 00:00:13 GMT"
    assert r.headers["x-should-retry"] == "false"
    assert r.json()["error"]["type"] == "server_error"


@pytest.mark.anyio
async def test_verbatim_retry_after_and_overloaded_status() -> None:
    """A string retry_after is sent as is; 529 uses Anthropic's overloaded_error."""
    provider, _ = fake(Fault("status", status=529, retry_after="soon"))
    async with async_client(provider) as c:
        r = await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)
    assert (r.status_code, r.headers["retry-after"]) == (529, "soon")
    assert r.json()["error"] == {"type": "overloaded_error", "message": "Overloaded"}


@pytest.mark.anyio
async def test_latency_waits_on_the_clock_before_headers() -> None:
    """A latency fault (plus the base latency) sleeps on the injected clock."""
    provider, clock = fake(Fault("latency", delay=2.5), latency=0.5)
    async with async_client(provider) as c:
        r = await c.get("/models", headers=OPENAI)
    assert r.status_code == 200
    assert clock.sleeps == [3.0]


@pytest.mark.anyio
async def test_wait_beyond_the_read_timeout_raises_read_timeout() -> None:
    """A wait longer than the request's read timeout raises ReadTimeout after it."""
    provider, clock = fake(Fault("latency", delay=60))
    async with async_client(provider, timeout=5.0) as c:
        with pytest.raises(httpx2.ReadTimeout):
            await c.get("/models", headers=OPENAI)
    assert clock.sleeps == [5.0]
    assert provider.stats()["in_flight"] == 0


@pytest.mark.anyio
async def test_slow_first_token_waits_after_headers() -> None:
    """slow_first_token delays the first delta, not the response headers."""
    provider, clock = fake(Fault("slow_first_token", delay=4))
    async with async_client(provider) as c:
        req = c.build_request(
            "POST",
            "/messages",
            json={**ANTHROPIC_BODY, "stream": True},
            headers=ANTHROPIC,
        )
        r = await c.send(req, stream=True)
        assert clock.sleeps == []
        lines = [line async for line in r.aiter_lines()]
        await r.aclose()
    assert clock.sleeps == [4]
    assert deltas(lines) == DEFAULT_REPLY


@pytest.mark.anyio
async def test_drop_raises_remote_protocol_error() -> None:
    """drop closes the connection without a response: RemoteProtocolError on send."""
    provider, _ = fake(Fault("drop"))
    async with async_client(provider) as c:
        with pytest.raises(
            httpx2.RemoteProtocolError, match="without sending a response"
        ):
            await c.get("/models", headers=OPENAI)
    assert provider.requests[-1].status == 0
    assert provider.stats()["in_flight"] == 0


@pytest.mark.anyio
async def test_cut_raises_while_reading_the_stream() -> None:
    """cut delivers the first deltas, then the read fails mid-body."""
    provider, _ = fake(Fault("cut", after_chunks=2))
    got: list[str] = []
    async with async_client(provider) as c:
        req = c.build_request(
            "POST",
            "/messages",
            json={**ANTHROPIC_BODY, "stream": True},
            headers=ANTHROPIC,
        )
        r = await c.send(req, stream=True)
        assert r.status_code == 200
        with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
            await read_lines(r, got)
        await r.aclose()
    assert deltas(got) == "Hello from"
    assert provider.stats()["in_flight"] == 0


@pytest.mark.anyio
async def test_cut_of_a_plain_body_raises_on_read() -> None:
    """cut on a non-streamed answer sends half the declared Content-Length."""
    provider, _ = fake(Fault("cut"))
    async with async_client(provider) as c:
        with pytest.raises(httpx2.RemoteProtocolError, match="expected"):
            await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)


@pytest.mark.anyio
async def test_stall_pauses_mid_stream_then_resumes() -> None:
    """stall stops after N deltas for `delay` seconds, then the stream completes."""
    provider, clock = fake(Fault("stall", after_chunks=1, delay=30))
    async with async_client(provider, timeout=60) as c:
        r = await c.post(
            "/messages", json={**ANTHROPIC_BODY, "stream": True}, headers=ANTHROPIC
        )
    assert clock.sleeps == [30]
    assert deltas(r.text.splitlines()) == DEFAULT_REPLY
    assert "message_stop" in r.text


@pytest.mark.anyio
async def test_stall_beyond_the_read_timeout_times_out_mid_body() -> None:
    """A stall longer than the read timeout raises ReadTimeout while reading."""
    provider, clock = fake(Fault("stall", after_chunks=1, delay=30))
    async with async_client(provider, timeout=2.0) as c:
        req = c.build_request(
            "POST",
            "/messages",
            json={**ANTHROPIC_BODY, "stream": True},
            headers=ANTHROPIC,
        )
        r = await c.send(req, stream=True)
        got: list[str] = []
        with pytest.raises(httpx2.ReadTimeout):
            await read_lines(r, got)
        await r.aclose()
    assert deltas(got) == "Hello"
    assert clock.sleeps == [2.0]


@pytest.mark.anyio
async def test_malformed_json_is_a_200_with_a_broken_body() -> None:
    """malformed_json answers 200 with a body that does not parse."""
    provider, _ = fake(Fault("malformed_json"))
    async with async_client(provider) as c:
        r = await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()


@pytest.mark.anyio
async def test_malformed_sse_inserts_a_garbage_event() -> None:
    """malformed_sse puts an event with broken JSON after N deltas, then goes on."""
    provider, _ = fake(Fault("malformed_sse", after_chunks=1))
    async with async_client(provider) as c:
        r = await c.post(
            "/chat/completions", json={**OPENAI_BODY, "stream": True}, headers=OPENAI
        )
    datas = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    broken = []
    for d in datas:
        try:
            json.loads(d)
        except json.JSONDecodeError:
            broken.append(d)
    assert len(broken) == 2  # the garbage chunk and the "[DONE]" marker
    assert datas[2] == broken[0] and datas[-1] == "[DONE]"


@pytest.mark.anyio
@pytest.mark.parametrize("with_finish", [True, False], ids=["finish", "no-finish"])
async def test_no_done_drops_the_end_marker(with_finish: bool) -> None:
    """no_done ends without message_stop/[DONE], and optionally without the stop reason."""
    provider, _ = fake(Fault("no_done", with_finish_reason=with_finish))
    async with async_client(provider) as c:
        a = await c.post(
            "/messages", json={**ANTHROPIC_BODY, "stream": True}, headers=ANTHROPIC
        )
        o = await c.post(
            "/chat/completions", json={**OPENAI_BODY, "stream": True}, headers=OPENAI
        )
    assert "message_stop" not in a.text and "[DONE]" not in o.text
    assert ("end_turn" in a.text) is with_finish
    assert ('"finish_reason":"stop"' in o.text) is with_finish
    assert deltas(a.text.splitlines()) == DEFAULT_REPLY


@pytest.mark.anyio
async def test_stream_error_sends_an_error_event() -> None:
    """stream_error ends the stream with the protocol's in-stream error event."""
    provider, _ = fake(Fault("stream_error", after_chunks=2))
    async with async_client(provider) as c:
        r = await c.post(
            "/messages", json={**ANTHROPIC_BODY, "stream": True}, headers=ANTHROPIC
        )
    assert r.text.rstrip().endswith('"request_id":"req_fake000000000001"}')
    assert "event: error" in r.text and "overloaded_error" in r.text
    assert deltas(r.text.splitlines()) == "Hello from"


@pytest.mark.anyio
async def test_bad_key_fault_answers_401_to_a_good_key() -> None:
    """bad_key makes the provider behave as if the (valid) key were wrong."""
    provider, _ = fake(Fault("bad_key"))
    async with async_client(provider) as c:
        a = await c.get("/models", headers=ANTHROPIC)
        o = await c.get("/models", headers=OPENAI)
    assert a.json()["error"]["type"] == "authentication_error"
    assert o.json()["error"]["code"] == "invalid_api_key"
    assert (a.status_code, o.status_code) == (401, 401)
    assert provider.requests[0].key_valid is True


@pytest.mark.anyio
async def test_context_length_and_content_policy_bodies() -> None:
    """context_length and content_policy answer 400 with each provider's real shape."""
    provider, _ = fake(Fault("context_length", times=2), Fault("content_policy"))
    async with async_client(provider) as c:
        a = (await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)).json()
        o = (await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)).json()
        p = (await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)).json()
    assert a["error"]["type"] == "invalid_request_error"
    assert a["error"]["message"].startswith("prompt is too long: ")
    assert o["error"]["code"] == "context_length_exceeded"
    assert o["error"]["param"] == "messages"
    assert p["error"]["code"] == "content_policy_violation"


@pytest.mark.anyio
async def test_reject_prefill_only_hits_prefilled_requests() -> None:
    """reject_prefill answers 400 to a request ending with an assistant message only."""
    provider, _ = fake(Fault("reject_prefill"))
    prefilled = {
        **ANTHROPIC_BODY,
        "messages": [*USER, {"role": "assistant", "content": "He"}],
    }
    async with async_client(provider) as c:
        plain = await c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC)
        rejected = await c.post("/messages", json=prefilled, headers=ANTHROPIC)
    assert plain.status_code == 200
    assert rejected.status_code == 400
    assert "prefill" in rejected.json()["error"]["message"]


@pytest.mark.anyio
async def test_faults_change_at_runtime() -> None:
    """set_faults swaps the plan between requests."""
    provider, _ = fake()
    async with async_client(provider) as c:
        first = await c.get("/models", headers=OPENAI)
        provider.set_faults([Fault("status", status=500)])
        second = await c.get("/models", headers=OPENAI)
        provider.set_faults([])
        third = await c.get("/models", headers=OPENAI)
    assert [first.status_code, second.status_code, third.status_code] == [200, 500, 200]


@pytest.mark.anyio
async def test_in_flight_counts_open_responses() -> None:
    """A response counts as in flight until its body is read or closed."""
    provider, _ = fake()
    async with async_client(provider) as c:
        req = c.build_request(
            "POST",
            "/messages",
            json={**ANTHROPIC_BODY, "stream": True},
            headers=ANTHROPIC,
        )
        r1 = await c.send(req, stream=True)
        r2 = await c.send(req, stream=True)
        assert provider.stats()["in_flight"] == 2
        await r1.aclose()
        await r2.aread()
    assert provider.stats() | {"faults": []} == {
        "requests": 2,
        "in_flight": 0,
        "max_in_flight": 2,
        "faults_applied": 0,
        "faults": [],
    }


@pytest.mark.anyio
async def test_httpx_flavor_async() -> None:
    """flavor="httpx" serves plain httpx clients, including its exceptions."""
    provider, _ = fake(Fault("cut", times=1))
    transport = provider.async_transport(flavor="httpx")
    async with httpx.AsyncClient(transport=transport, base_url=provider.url) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)
        r = await c.post("/chat/completions", json=OPENAI_BODY, headers=OPENAI)
    assert isinstance(r, httpx.Response)
    assert r.json()["choices"][0]["message"]["content"] == DEFAULT_REPLY


def test_sync_transports_both_flavors() -> None:
    """The sync transport works for httpx2 and httpx, with waits on the clock."""
    provider, clock = fake(Fault("stall", delay=7))
    transport2 = provider.sync_transport()
    with httpx2.Client(transport=transport2, base_url=provider.url, timeout=60) as c:
        r = c.post(
            "/messages", json={**ANTHROPIC_BODY, "stream": True}, headers=ANTHROPIC
        )
    assert deltas(r.text.splitlines()) == DEFAULT_REPLY
    assert clock.sleeps == [7]
    transport = provider.sync_transport(flavor="httpx")
    with httpx.Client(transport=transport, base_url=provider.url) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post("/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC, timeout=1.0)
        provider.set_faults([Fault("drop")])
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/models", headers=OPENAI)


def test_flavor_mismatch_is_a_clear_type_error() -> None:
    """An httpx request on an httpx2-flavored transport raises TypeError naming the fix."""
    provider, _ = fake()
    with (
        httpx.Client(transport=provider.sync_transport(), base_url=provider.url) as c,  # type: ignore[arg-type]
        pytest.raises(TypeError, match="flavor='httpx'"),
    ):
        c.get("/models", headers=OPENAI)
    with pytest.raises(ValueError, match="flavor"):
        provider.sync_transport(flavor="requests")  # type: ignore[call-overload]


def test_transport_repr_shows_flavor_without_key() -> None:
    """The transport repr names its flavor and provider but never the key."""
    provider = FakeProvider(api_key="sk-hidden")
    text = repr(provider.async_transport(flavor="httpx"))
    assert "flavor='httpx'" in text and "sk-hidden" not in text
