"""
Hostile providers through both clients: a malformed 200 is a provider fault (retried,
a breaker failure, failed over), and a key a provider echoes back never leaves the client.
"""

from __future__ import annotations

import logging

import httpx2
import pytest
from client_helpers import KEY, USER, config, fakes

from holysheep_client import APIError, AuthenticationError, BreakerConfig
from holysheep_client.testing import Fault
from shells import Shell

pytestmark = pytest.mark.anyio


async def test_a_malformed_200_on_the_primary_is_rescued_by_the_fallback(
    shell: Shell,
) -> None:
    """A 200 whose body is not JSON is retried on the provider, then the call fails over."""
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("malformed_json")])
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        r = await client.chat(messages=USER, model="m")
        health = client.health().providers["a"]
    assert r.provider == "b"
    assert len(fp["a"].requests) == 2, "asked again before failing over"
    assert health.errors == 2


async def test_a_malformed_200_is_raised_only_when_every_try_is_spent(
    shell: Shell,
) -> None:
    """With one provider the malformed answer is raised as APIError after max_attempts tries."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("malformed_json")])
    async with shell.client(config(("a", "openai")), fakes=fp) as client:
        with pytest.raises(APIError) as info:
            await client.chat(messages=USER, model="m")
    assert info.value.status_code == 200 and len(fp["a"].requests) == 2


async def test_a_malformed_200_is_a_breaker_failure(shell: Shell) -> None:
    """Malformed 200s open the breaker like 5xx do."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("malformed_json")])
    cfg = config(("a", "anthropic"), circuit_breaker=BreakerConfig(fail_max=2))
    async with shell.client(cfg, fakes=fp) as client:
        with pytest.raises(APIError):
            await client.chat(messages=USER, model="m")
        assert client.health().providers["a"].breaker == "open"


async def test_a_malformed_first_event_fails_the_stream_over(shell: Shell) -> None:
    """A garbage SSE event before the first delta moves the stream to the other provider."""
    fp = fakes("a", "b", reply="one two three")
    fp["a"].set_faults([Fault("malformed_sse", after_chunks=0)])
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        s = await client.stream(messages=USER, model="m")
    assert s.error is None and s.final is not None
    assert s.final.provider == "b" and s.text == "one two three"


def echoing_relay(request: httpx2.Request) -> httpx2.Response:
    """A relay that quotes the key it refused (some do)."""
    key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    return httpx2.Response(
        401,
        json={
            "type": "error",
            "error": {
                "type": "authentication_error",
                "message": f"invalid x-api-key: {key}",
            },
            "detail": {"sent": [key, {"header": key}]},
        },
    )


async def test_an_echoed_key_appears_nowhere(
    shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """A key quoted back by the provider is masked in str, repr, .body and every log line."""
    caplog.set_level(logging.DEBUG)
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    from holysheep_client.otel import OpenTelemetryHook

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    hook = OpenTelemetryHook(tracer_provider=provider, capture_content=True)
    for protocol in ("anthropic", "openai"):
        cfg = config((protocol, protocol))
        async with shell.client(
            cfg,
            transports={protocol: httpx2.MockTransport(echoing_relay)},
            hooks=[hook],
        ) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.chat(messages=USER, model="m")
        err = info.value
        texts = [str(err), repr(err), repr(err.body), str(err.args)]
        assert "***" in str(err), "the echo is still there, masked"
        assert not [t for t in texts if KEY in t], protocol
    spans = [
        str(s.attributes) + str(s.events) + str(s.status.description)
        for s in exporter.get_finished_spans()
    ]
    assert spans and not [s for s in spans if KEY in s]
    assert not [r for r in caplog.records if KEY in r.getMessage()]
