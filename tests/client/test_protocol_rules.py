"""
A call the Anthropic API refuses whatever is done (reasoning with a forced tool) is
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
