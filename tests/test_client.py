"""
AsyncClient and Client end to end on the fake provider's in-process transports.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from holysheep_client import (
    AllProvidersFailedError,
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ClientConfig,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConfig,
    RetryConfig,
    ServerError,
    StreamInterruptedError,
    TimeoutConfig,
)
from holysheep_client.testing import FakeProvider, Fault

KEY = "sk-test-secret-abcdef"
USER = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello there"},
]


def config(*names_protocols: tuple[str, str], **kw: Any) -> ClientConfig:
    providers = [
        ProviderConfig(
            name=name,
            base_url=f"http://{name}.localhost/v1",
            protocol=proto,  # type: ignore[arg-type]
            api_key=KEY,
            weight=100 - 10 * i,
            models={"big": "big-model"},
        )
        for i, (name, proto) in enumerate(names_protocols)
    ]
    kw.setdefault(
        "retry", RetryConfig(max_attempts=2, initial_backoff=0, max_backoff=0)
    )
    kw.setdefault("rate_limit", None)
    return ClientConfig(providers=providers, **kw)


def fakes(*names: str, **kw: Any) -> dict[str, FakeProvider]:
    return {n: FakeProvider(api_key=KEY, **kw) for n in names}


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_async_chat_in_both_protocols(protocol: str) -> None:
    """A chat call returns text, usage, model, provider and a cost for a known model."""
    fp = fakes("a", reply="Hi from the fake.")
    async with AsyncClient(
        config(("a", protocol)), transports={"a": fp["a"].async_transport()}
    ) as client:
        r = await client.chat(messages=USER, model="deepseek-v3.2", max_tokens=50)
    assert r.text == "Hi from the fake."
    assert (r.provider, r.model, r.attempts) == ("a", "deepseek-v3.2", 1)
    assert r.usage.output_tokens > 0 and r.usage.input_tokens > 0
    assert r.cost_usd is not None and r.cost_usd > 0
    assert r.stop_reason == "end_turn"
    sent = fp["a"].requests[-1]
    assert sent.key_valid


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_async_stream_in_both_protocols(protocol: str) -> None:
    """A stream's deltas join to the final text, with usage and stop reason."""
    fp = fakes("a", reply="one two three four")
    async with (
        AsyncClient(
            config(("a", protocol)), transports={"a": fp["a"].async_transport()}
        ) as client,
        client.stream(messages=USER, model="m") as s,
    ):
        deltas = [d async for d in s.text_stream]
        final = await s.get_final_response()
    assert len(deltas) > 1 and "".join(deltas) == final.text == "one two three four"
    assert final.usage.output_tokens > 0 and final.stop_reason == "end_turn"


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
def test_sync_chat_and_stream_in_both_protocols(protocol: str) -> None:
    """The sync Client chats and streams in both protocols."""
    fp = fakes("a", reply="alpha beta gamma")
    with Client(
        config(("a", protocol)), transports={"a": fp["a"].sync_transport()}
    ) as client:
        assert client.chat(messages=USER, model="m").text == "alpha beta gamma"
        with client.stream(messages=USER, model="m") as s:
            deltas = list(s.text_stream)
            final = s.get_final_response()
        assert "".join(deltas) == final.text == "alpha beta gamma"
        assert client.models() and client.health().ready


@pytest.mark.anyio
async def test_failover_on_5xx_counts_attempts_across_providers() -> None:
    """A provider answering 503 is retried, then the call fails over; attempts count both."""
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    transports = {n: f.async_transport() for n, f in fp.items()}
    async with AsyncClient(
        config(("a", "anthropic"), ("b", "openai")), transports=transports
    ) as client:
        r = await client.chat(messages=USER, model="m", route_key="k")
        assert r.provider == "b" or r.attempts == 1
        client.set_weights({"a": 100, "b": 0})
        r = await client.chat(messages=USER, model="m")
    assert r.provider == "b" and r.attempts == 3
    assert client.health().providers["a"].errors >= 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        pytest.param(Fault("status", status=400), BadRequestError, id="400"),
        pytest.param(Fault("status", status=404), NotFoundError, id="404"),
        pytest.param(Fault("status", status=422), BadRequestError, id="422"),
    ],
)
async def test_caller_errors_never_retry_or_fail_over(
    fault: Fault, cls: type[APIError]
) -> None:
    """400/404/422 raise at once: one attempt, the second provider untouched."""
    fp = fakes("a", "b")
    fp["a"].set_faults([fault])
    transports = {n: f.async_transport() for n, f in fp.items()}
    async with AsyncClient(
        config(("a", "anthropic"), ("b", "anthropic")), transports=transports
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        with pytest.raises(cls):
            await client.chat(messages=USER, model="m")
    assert len(fp["a"].requests) == 1 and not fp["b"].requests


@pytest.mark.anyio
async def test_all_failed_carries_one_error_per_provider() -> None:
    """When every provider fails, AllProvidersFailedError lists each one's error."""
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    fp["b"].set_faults([Fault("bad_key")])
    transports = {n: f.async_transport() for n, f in fp.items()}
    async with AsyncClient(
        config(("a", "anthropic"), ("b", "openai")), transports=transports
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        with pytest.raises(AllProvidersFailedError) as info:
            await client.chat(messages=USER, model="m")
    assert [type(e) for e in info.value.errors] == [ServerError, AuthenticationError]
    assert [e.provider for e in info.value.errors] == ["a", "b"]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_single_provider_raises_its_own_error() -> None:
    """With one provider its own typed error is raised, not AllProvidersFailedError."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("bad_key")])
    async with AsyncClient(
        config(("a", "anthropic")), transports={"a": fp["a"].async_transport()}
    ) as client:
        with pytest.raises(AuthenticationError):
            await client.chat(messages=USER, model="m")
        with pytest.raises(AuthenticationError):
            await client.verify()


@pytest.mark.anyio
async def test_malformed_answer_is_a_typed_error() -> None:
    """A 200 with invalid JSON raises APIError, never JSONDecodeError."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("malformed_json")])
    async with AsyncClient(
        config(("a", "anthropic")), transports={"a": fp["a"].async_transport()}
    ) as client:
        with pytest.raises(APIError):
            await client.chat(messages=USER, model="m")


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["cut", "malformed_sse", "no_done"])
async def test_broken_stream_after_first_delta_raises_with_partial_text(
    kind: str,
) -> None:
    """A stream broken after its first delta raises StreamInterruptedError with the partial text."""
    fp = fakes("a", reply="one two three four five six")
    extra: dict[str, Any] = {"with_finish_reason": False} if kind == "no_done" else {}
    fp["a"].set_faults([Fault(kind, after_chunks=2, **extra)])  # type: ignore[arg-type]
    async with AsyncClient(
        config(("a", "anthropic")), transports={"a": fp["a"].async_transport()}
    ) as client:
        got: list[str] = []

        async def consume() -> None:
            async with client.stream(messages=USER, model="m") as s:
                async for d in s.text_stream:
                    got.append(d)

        with pytest.raises(StreamInterruptedError) as info:
            await consume()
    assert got and info.value.partial_text == "".join(got)
    if kind != "no_done":
        assert info.value.partial_text != "one two three four five six"


@pytest.mark.anyio
async def test_stalled_stream_raises_after_stream_idle() -> None:
    """A stall longer than timeout.stream_idle is a break, never a silent success."""
    fp = fakes("a", reply="one two three four")
    fp["a"].set_faults([Fault("stall", after_chunks=1, delay=5.0)])
    cfg = config(("a", "openai"), timeout=TimeoutConfig(stream_idle=0.05))
    async with AsyncClient(cfg, transports={"a": fp["a"].async_transport()}) as client:
        with pytest.raises(StreamInterruptedError) as info:
            async with client.stream(messages=USER, model="m") as s:
                await s.get_final_response()
    assert info.value.partial_text


@pytest.mark.anyio
async def test_context_length_falls_back_to_the_larger_model_once() -> None:
    """A context-length error retries once with the fallback alias, mapped per provider."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("context_length", match_model="small", times=5)])
    cfg = config(("a", "anthropic"), context_fallbacks={"small": "big"})
    async with AsyncClient(cfg, transports={"a": fp["a"].async_transport()}) as client:
        r = await client.chat(messages=USER, model="small")
    assert r.model == "big-model"
    assert [q.body["model"] for q in fp["a"].requests] == ["small", "big-model"]
    fp["a"].set_faults([Fault("context_length")])
    async with AsyncClient(
        config(("a", "anthropic")), transports={"a": fp["a"].async_transport()}
    ) as client:
        with pytest.raises(ContextLengthError):
            await client.chat(messages=USER, model="small")


@pytest.mark.anyio
async def test_no_key_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    """At DEBUG, no log line, repr or error message carries the key."""
    caplog.set_level(logging.DEBUG)
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    fp["b"].set_faults([Fault("bad_key")])
    transports = {n: f.async_transport() for n, f in fp.items()}
    cfg = config(("a", "anthropic"), ("b", "openai"))
    async with AsyncClient(cfg, transports=transports) as client:
        with pytest.raises(AllProvidersFailedError) as info:
            await client.chat(messages=USER, model="m")
        texts = [
            repr(client),
            repr(cfg),
            str(info.value),
            repr(info.value),
            repr(client.health()),
        ]
        texts += [
            str(e) + repr(e) + repr(getattr(e, "body", "")) for e in info.value.errors
        ]
    texts += [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in t for t in texts)
    assert not [t for t in texts if KEY in t]


@pytest.mark.anyio
async def test_bad_arguments_raise_bad_request_locally() -> None:
    """Bad call arguments raise BadRequestError before any request is sent."""
    fp = fakes("a")
    async with AsyncClient(
        config(("a", "anthropic")), transports={"a": fp["a"].async_transport()}
    ) as client:
        for kw in ({"max_tokens": 0}, {"model": ""}, {"temperature": 9.0}):
            args: dict[str, Any] = {"messages": USER, "model": "m", **kw}
            with pytest.raises(BadRequestError):
                await client.chat(**args)
    assert not fp["a"].requests


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "raised"),
    [(404, None), (403, PermissionDeniedError), (500, ServerError)],
    ids=["404-accepted", "403-raised", "500-raised"],
)
async def test_verify_accepts_only_a_missing_models_endpoint(
    status: int, raised: type[APIError] | None
) -> None:
    """verify() tolerates a relay without /models (404) and raises every other error."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("status", status=status)])
    cfg = config(("a", "anthropic"), retry=RetryConfig(max_attempts=1))
    async with AsyncClient(cfg, transports={"a": fp["a"].async_transport()}) as client:
        if raised is None:
            await client.verify()
        else:
            with pytest.raises(raised):
                await client.verify()
    with Client(cfg, transports={"a": fp["a"].sync_transport()}) as sync_client:
        if raised is None:
            sync_client.verify()
        else:
            with pytest.raises(raised):
                sync_client.verify()
