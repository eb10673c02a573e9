"""
A call the Anthropic API refuses whatever is done (reasoning with a forced tool, a
temperature above 1, sampling or a budget it refuses with reasoning) is
routed around Anthropic-protocol providers, or refused before sending; both clients.
"""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import config, fakes
from pydantic import BaseModel

from holysheep_client import CapabilityError, Tool
from holysheep_client.testing import json_answer
from shells import Shell

pytestmark = pytest.mark.anyio

ASK = [{"role": "user", "content": "Is order 42 late?"}]
LOOKUP = Tool(
    "lookup_order",
    "Look an order up.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
)


class Late(BaseModel):
    """Whether an order is late."""

    late: bool


FORCED = [
    pytest.param({"response_format": Late}, id="response-format"),
    pytest.param({"tools": [LOOKUP], "tool_choice": "any"}, id="tool-choice-any"),
]


@pytest.mark.parametrize("forced", FORCED)
async def test_reasoning_with_a_forced_tool_goes_to_the_openai_protocol(
    shell: Shell, forced: dict[str, Any]
) -> None:
    """The Anthropic provider is skipped, not tried (no request, no error counted);
    the same call without reasoning is its again."""
    fp = fakes("a", "b", script=json_answer({"late": False}))
    async with shell.client(
        config(("a", "anthropic"), ("b", "openai")), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        r = await client.chat(
            messages=ASK, model="m", max_tokens=4096, reasoning="low", **forced
        )
        health = client.health().providers
        plain = await client.chat(messages=ASK, model="m", **forced)
    assert r.provider == "b"
    assert health["a"].errors == 0
    assert fp["b"].requests[0].body["reasoning_effort"] == "low"
    assert plain.provider == "a", "without reasoning the forced tool is fine there"
    assert [q.status for q in fp["a"].requests] == [200]


@pytest.mark.parametrize("forced", FORCED)
async def test_with_only_anthropic_providers_it_is_refused_before_sending(
    shell: Shell, forced: dict[str, Any]
) -> None:
    """CapabilityError says why, and neither provider receives anything."""
    fp = fakes("a", "b")
    async with shell.client(
        config(("a", "anthropic"), ("b", "anthropic")), fakes=fp
    ) as client:
        with pytest.raises(CapabilityError, match="forced tool") as info:
            await client.chat(
                messages=ASK, model="m", max_tokens=4096, reasoning="low", **forced
            )
    assert info.value.status_code is None
    assert not fp["a"].requests and not fp["b"].requests


REFUSED = [
    pytest.param({"temperature": 1.5}, "temperature: ", id="temperature-above-1"),
    pytest.param(
        {"reasoning": "low", "temperature": 0.5}, "temperature: ", id="temp-reasoning"
    ),
    pytest.param({"reasoning": "low", "top_p": 0.9}, "top_p: ", id="top-p-reasoning"),
    pytest.param({"reasoning": 512}, "reasoning: ", id="budget-too-small"),
]


@pytest.mark.parametrize(("kw", "field"), REFUSED)
async def test_a_value_anthropic_refuses_is_routed_around_not_raised_mid_failover(
    shell: Shell, kw: dict[str, Any], field: str
) -> None:
    """The OpenAI primary's outage is what the caller sees, not the Anthropic
    fallback's refusal of a value; the fallback receives nothing."""
    from holysheep_client import ServerError
    from holysheep_client.testing import Fault

    fp = fakes("o", "a")
    fp["o"].set_faults([Fault("status", status=503)])
    async with shell.client(
        config(("o", "openai"), ("a", "anthropic")), fakes=fp
    ) as client:
        with pytest.raises(ServerError):
            await client.chat(messages=ASK, model="m", max_tokens=4096, **kw)
        health = client.health().providers["a"]
    assert fp["a"].requests == [] and health.errors == 0


@pytest.mark.parametrize(("kw", "field"), REFUSED)
async def test_a_value_no_provider_takes_is_refused_before_sending(
    shell: Shell, kw: dict[str, Any], field: str
) -> None:
    """With only Anthropic providers: CapabilityError naming the field, nothing sent."""
    fp = fakes("a")
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        with pytest.raises(CapabilityError, match=field):
            await client.chat(messages=ASK, model="m", max_tokens=4096, **kw)
    assert fp["a"].requests == []
