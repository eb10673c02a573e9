"""
The Messages surface through both clients: structured output checked, retried and
failed over; capabilities routing calls around providers; cached calls priced as such.
"""

from __future__ import annotations

import json

import httpx2
import pytest
from client_helpers import KEY, config, fakes
from pydantic import BaseModel

from holysheep_client import (
    AllProvidersFailedError,
    CapabilityError,
    ClientConfig,
    ImageBlock,
    ModelPrice,
    OutputValidationError,
    PriceTable,
    ProviderConfig,
    RetryConfig,
    Tool,
    Usage,
)
from holysheep_client.testing import json_answer
from shells import Shell

pytestmark = pytest.mark.anyio

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
ASK = [{"role": "user", "content": "Classify: 'great product'"}]


class Verdict(BaseModel):
    """A moderation verdict."""

    flagged: bool
    label: str


async def test_structured_output_is_parsed_into_the_model(shell: Shell) -> None:
    """A JSON answer matching the model becomes r.parsed, on both protocols."""
    for protocol in ("anthropic", "openai"):
        fp = fakes("a", script=json_answer({"flagged": False, "label": "ok"}))
        async with shell.client(config(("a", protocol)), fakes=fp) as client:
            r = await client.chat(messages=ASK, model="m", response_format=Verdict)
        assert r.parsed == Verdict(flagged=False, label="ok"), protocol
        assert json.loads(r.text) == {"flagged": False, "label": "ok"}


async def test_an_invalid_answer_is_retried_then_failed_over(shell: Shell) -> None:
    """An answer off the schema is asked again (max_attempts), then the call fails over."""
    fp = fakes("a", "b")
    fp["a"].script = json_answer({"verdict": "I think it is fine."})
    fp["b"].script = json_answer({"flagged": True, "label": "spam"})
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        r = await client.chat(messages=ASK, model="m", response_format=Verdict)
        health = client.health().providers
    assert r.provider == "b" and r.parsed == Verdict(flagged=True, label="spam")
    assert len(fp["a"].requests) == 2 and len(fp["b"].requests) == 1
    assert health["a"].errors == 2


async def test_every_invalid_answer_raises_output_validation_error(
    shell: Shell,
) -> None:
    """With one provider, the last invalid answer is raised with its raw text."""
    fp = fakes("a", script=json_answer({"flagged": "maybe"}))
    async with shell.client(config(("a", "openai")), fakes=fp) as client:
        with pytest.raises(OutputValidationError) as info:
            await client.chat(messages=ASK, model="m", response_format=Verdict)
    assert json.loads(info.value.raw) == {"flagged": "maybe"}
    assert info.value.provider == "a"
    assert "maybe" not in str(info.value), "the message names the fault, not the text"
    fp["a"].script = lambda chat: "nope, not JSON"
    others = fakes("b", script=lambda chat: "nope, not JSON")
    async with shell.client(
        config(("a", "openai"), ("b", "openai")), fakes={**fp, **others}
    ) as client:
        with pytest.raises(AllProvidersFailedError) as all_failed:
            await client.chat(messages=ASK, model="m", response_format="json")
    assert [type(e) for e in all_failed.value.errors] == [OutputValidationError] * 2


async def test_a_schema_dict_is_checked_too(shell: Shell) -> None:
    """A JSON-schema dict checks the answer: an enum value outside it is refused."""
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["pos", "neg"]}},
        "required": ["label"],
    }
    fp = fakes("a", script=json_answer({"label": "meh"}))
    cfg = config(("a", "anthropic"), retry=RetryConfig(max_attempts=1))
    async with shell.client(cfg, fakes=fp) as client:
        with pytest.raises(OutputValidationError, match="label"):
            await client.chat(messages=ASK, model="m", response_format=schema)
        fp["a"].script = json_answer({"label": "pos"})
        r = await client.chat(messages=ASK, model="m", response_format=schema)
    assert r.parsed == {"label": "pos"}


def capable(**caps: set[str]) -> ClientConfig:
    return ClientConfig(
        providers=[
            ProviderConfig(
                name=name,
                base_url=f"http://{name}.localhost/v1",
                api_key=KEY,
                weight=100 if i == 0 else 0,
                capabilities=c,  # type: ignore[arg-type]
            )
            for i, (name, c) in enumerate(caps.items())
        ],
        rate_limit=None,
    )


async def test_a_call_is_routed_around_a_provider_without_what_it_needs(
    shell: Shell,
) -> None:
    """An image call skips the text-only provider: it gets no request and no failure."""
    fp = fakes("text", "vision")
    cfg = capable(text={"tools"}, vision={"tools", "images"})
    image = {
        "role": "user",
        "content": [
            {"type": "text", "text": "what?"},
            ImageBlock("image/png", data=PNG),
        ],
    }
    async with shell.client(cfg, fakes=fp) as client:
        r = await client.chat(messages=[image], model="m")
        plain = await client.chat(messages=ASK, model="m")
        health = client.health().providers
    assert r.provider == "vision" and plain.provider == "text"
    assert len(fp["text"].requests) == 1 and health["text"].errors == 0


async def test_no_capable_provider_is_refused_before_sending(shell: Shell) -> None:
    """When no provider has the capability, CapabilityError is raised and nothing is sent."""
    fp = fakes("a", "b")
    cfg = capable(a={"images"}, b=set())
    tool = Tool("lookup", "Look up.", {"type": "object", "properties": {}})
    async with shell.client(cfg, fakes=fp) as client:
        with pytest.raises(CapabilityError, match="tools") as info:
            await client.chat(messages=ASK, model="m", tools=[tool])
    assert info.value.status_code is None
    assert not fp["a"].requests and not fp["b"].requests


def _cached_answer(protocol: str) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if protocol == "anthropic":
            return httpx2.Response(
                200,
                json={
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "ok"}],
                    "stop_reason": "end_turn",
                    "usage": {
                        "input_tokens": 100,
                        "cache_read_input_tokens": 8000,
                        "cache_creation_input_tokens": 1000,
                        "output_tokens": 50,
                    },
                },
            )
        return httpx2.Response(
            200,
            json={
                "id": "c1",
                "object": "chat.completion",
                "model": "gpt-4.1",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "ok"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 9100,
                    "completion_tokens": 50,
                    "prompt_tokens_details": {"cached_tokens": 8000},
                },
            },
        )

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("protocol", "model", "usage"),
    [
        ("anthropic", "claude-sonnet-4-5", Usage(9100, 50, 8000, 1000)),
        ("openai", "gpt-4.1", Usage(9100, 50, 8000, 0)),
    ],
)
async def test_a_cached_call_costs_the_cache_prices(
    shell: Shell, protocol: str, model: str, usage: Usage
) -> None:
    """The cost of a cached call is the table's cache prices times the reported tokens."""
    cfg = config(
        (protocol, protocol),
        pricing={
            "claude-sonnet-4-5": ModelPrice(
                input=3, output=15, cache_read=0.3, cache_write=3.75
            )
        },
    )
    async with shell.client(
        cfg, transports={protocol: _cached_answer(protocol)}
    ) as client:
        r = await client.chat(messages=ASK, model=model)
    assert r.usage == usage
    inp, out = PriceTable().price(model) or (0.0, 0.0)
    read, write = PriceTable().cache_price(model) or (0.0, 0.0)
    expected = (
        (
            usage.input_tokens
            - usage.cache_read_input_tokens
            - usage.cache_creation_input_tokens
        )
        * inp
        + usage.cache_read_input_tokens * read
        + usage.cache_creation_input_tokens * write
        + usage.output_tokens * out
    ) / 1e6
    assert r.cost_usd == pytest.approx(expected)
    assert (
        r.cost_usd is not None
        and r.cost_usd < (usage.input_tokens * inp + 50 * out) / 1e6
    )


def test_extra_is_sent_as_given() -> None:
    """extra= is the raw escape hatch: its fields reach the body untranslated."""
    from holysheep_client._client.spec import build_spec
    from holysheep_client._protocols import ANTHROPIC

    s = build_spec(
        ASK, model="m", max_tokens=5, temperature=None, stream=False, extra={"top_k": 3}
    )
    assert json.loads(ANTHROPIC.chat_body(s))["top_k"] == 3


async def test_a_skip_for_capability_is_no_failure_of_a_migration_target(
    shell: Shell,
) -> None:
    """Image calls that the target cannot take go to the source and never roll it back."""
    from datetime import UTC, datetime

    from holysheep_client import MigrationConfig, MigrationPhase, RollbackConfig
    from holysheep_client.testing import FakeClock

    clock = FakeClock(start=datetime(2026, 12, 1, tzinfo=UTC))
    fp = fakes("legacy", "holysheep")
    cfg = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://l.localhost/v1",
                api_key=KEY,
                protocol="openai",
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://h.localhost/v1",
                api_key=KEY,
                capabilities={"tools"},
            ),
        ],
        rate_limit=None,
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=clock.now(),
            phases=[MigrationPhase(name="all", duration=0, weight=100)],
            rollback=RollbackConfig(max_error_rate=0.0, min_requests=2, window=60),
        ),
    )
    image = {"role": "user", "content": [ImageBlock("image/png", data=PNG)]}
    async with shell.client(cfg, fakes=fp, clock=clock) as client:
        for _ in range(5):
            assert (await client.chat(messages=[image], model="m")).provider == "legacy"
        assert (await client.chat(messages=ASK, model="m")).provider == "holysheep"
        status = client.health().migration
    assert status is not None and not status.rolled_back
    assert len(fp["holysheep"].requests) == 1
