"""
Chat on both clients (the ``shell`` fixture) over the fake provider's in-process transports.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from client_helpers import KEY, USER, config, fakes

from holysheep_client import (
    AllProvidersFailedError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    RetryConfig,
    ServerError,
)
from holysheep_client.testing import Fault
from shells import Shell

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_chat_in_both_protocols(shell: Shell, protocol: str) -> None:
    """A chat call returns text, usage, model, provider and a cost for a known model."""
    fp = fakes("a", reply="Hi from the fake.")
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        r = await client.chat(messages=USER, model="deepseek-v3.2", max_tokens=50)
        assert await client.models() and client.health().ready
    assert r.text == "Hi from the fake."
    assert (r.provider, r.model, r.attempts) == ("a", "deepseek-v3.2", 1)
    assert r.usage.output_tokens > 0 and r.usage.input_tokens > 0
    assert r.cost_usd is not None and r.cost_usd > 0
    assert r.stop_reason == "end_turn"
    assert fp["a"].requests[0].key_valid


async def test_failover_on_5xx_counts_attempts_across_providers(shell: Shell) -> None:
    """A provider answering 503 is retried, then the call fails over; attempts count both."""
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 100, "b": 0})
        r = await client.chat(messages=USER, model="m")
        assert client.health().providers["a"].errors == 1
    assert r.provider == "b" and r.attempts == 3
    assert [q.status for q in fp["a"].requests] == [503, 503]


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        pytest.param(Fault("status", status=400), BadRequestError, id="400"),
        pytest.param(Fault("status", status=404), NotFoundError, id="404"),
        pytest.param(Fault("status", status=422), BadRequestError, id="422"),
    ],
)
async def test_caller_errors_never_retry_or_fail_over(
    shell: Shell, fault: Fault, cls: type[APIError]
) -> None:
    """400/404/422 raise at once: one attempt, the second provider untouched."""
    fp = fakes("a", "b")
    fp["a"].set_faults([fault])
    async with shell.client(
        config(("a", "anthropic"), ("b", "anthropic")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        with pytest.raises(cls):
            await client.chat(messages=USER, model="m")
    assert len(fp["a"].requests) == 1 and not fp["b"].requests


async def test_all_failed_carries_one_error_per_provider(shell: Shell) -> None:
    """When every provider fails, AllProvidersFailedError lists each one's error."""
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    fp["b"].set_faults([Fault("bad_key")])
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        with pytest.raises(AllProvidersFailedError) as info:
            await client.chat(messages=USER, model="m")
    assert [type(e) for e in info.value.errors] == [ServerError, AuthenticationError]
    assert [e.provider for e in info.value.errors] == ["a", "b"]  # type: ignore[attr-defined]


async def test_single_provider_raises_its_own_error(shell: Shell) -> None:
    """With one provider its own typed error is raised, not AllProvidersFailedError."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("bad_key")])
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        with pytest.raises(AuthenticationError):
            await client.chat(messages=USER, model="m")
        with pytest.raises(AuthenticationError):
            await client.verify()


async def test_malformed_answer_is_a_typed_error(shell: Shell) -> None:
    """A 200 with invalid JSON raises APIError, never JSONDecodeError."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("malformed_json")])
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        with pytest.raises(APIError):
            await client.chat(messages=USER, model="m")


async def test_context_length_falls_back_to_the_larger_model_once(shell: Shell) -> None:
    """A context-length error retries once with the fallback alias, mapped per provider."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("context_length", match_model="small", times=5)])
    cfg = config(("a", "anthropic"), context_fallbacks={"small": "big"})
    async with shell.client(cfg, fakes=fp) as client:
        r = await client.chat(messages=USER, model="small")
    assert r.model == "big-model"
    assert [q.body["model"] for q in fp["a"].requests] == ["small", "big-model"]
    fp["a"].set_faults([Fault("context_length")])
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        with pytest.raises(ContextLengthError):
            await client.chat(messages=USER, model="small")


async def test_no_key_in_logs_reprs_or_errors(
    shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, no log line, repr or error message carries the key."""
    caplog.set_level(logging.DEBUG)
    fp = fakes("a", "b")
    fp["a"].set_faults([Fault("status", status=503)])
    fp["b"].set_faults([Fault("bad_key")])
    cfg = config(("a", "anthropic"), ("b", "openai"))
    async with shell.client(cfg, fakes=fp) as client:
        with pytest.raises(AllProvidersFailedError) as info:
            await client.chat(messages=USER, model="m")
        texts = [
            repr(client.raw),
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


async def test_bad_arguments_raise_bad_request_locally(shell: Shell) -> None:
    """Bad call arguments raise BadRequestError before any request is sent."""
    fp = fakes("a")
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        for kw in ({"max_tokens": 0}, {"model": ""}, {"temperature": 9.0}):
            args: dict[str, Any] = {"messages": USER, "model": "m", **kw}
            with pytest.raises(BadRequestError):
                await client.chat(**args)
    assert not fp["a"].requests


@pytest.mark.parametrize(
    ("status", "raised"),
    [(404, None), (403, PermissionDeniedError), (500, ServerError)],
    ids=["404-accepted", "403-raised", "500-raised"],
)
async def test_verify_accepts_only_a_missing_models_endpoint(
    shell: Shell, status: int, raised: type[APIError] | None
) -> None:
    """verify() tolerates a relay without /models (404) and raises every other error."""
    fp = fakes("a")
    fp["a"].set_faults([Fault("status", status=status)])
    cfg = config(("a", "anthropic"), retry=RetryConfig(max_attempts=1))
    async with shell.client(cfg, fakes=fp) as client:
        if raised is None:
            await client.verify()
        else:
            with pytest.raises(raised):
                await client.verify()
