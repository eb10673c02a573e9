"""
`count_tokens` on both clients: the Anthropic endpoint, the local estimate where a
provider has none (404) and on the OpenAI protocol, and bad input before sending.
"""

from __future__ import annotations

import pytest
from client_helpers import KEY, config, fakes

from holysheep_client import AuthenticationError, BadRequestError, Tool
from holysheep_client.testing import FakeProvider
from shells import Shell

pytestmark = pytest.mark.anyio

ASK = [
    {"role": "system", "content": "You answer for a shop."},
    {"role": "user", "content": "Where is my order 1234?"},
]
LOOKUP = Tool(
    name="lookup_order",
    description="Find an order by its number.",
    input_schema={
        "type": "object",
        "properties": {"order": {"type": "string"}},
        "required": ["order"],
    },
)
# The local estimate of ASK: 22 + 23 characters at four a token (12), plus four
# tokens of framing for each of the two messages (the system prompt counts as one).
ASK_ESTIMATE = 12 + 8


async def test_anthropic_asks_the_provider_what_a_chat_would_report(
    shell: Shell,
) -> None:
    """The count is the provider's; a chat of the same messages reports it as input."""
    fp = fakes("a")
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        counted = await client.count_tokens(ASK, model="big")
        answered = await client.chat(messages=ASK, model="big", max_tokens=16)
    count, chat = fp["a"].requests
    assert count.endpoint == "count" and count.path == "/v1/messages/count_tokens"
    assert count.status == 200 and count.body is not None
    assert count.body["model"] == "big-model", "the alias is mapped"
    assert "max_tokens" not in count.body
    assert counted == answered.usage.input_tokens > 0
    assert counted != ASK_ESTIMATE, "the provider's count, not the local estimate"


async def test_tools_count_and_are_checked_by_the_provider(shell: Shell) -> None:
    """Tools are sent in the Anthropic shape the strict fake takes, and add tokens."""
    fp = fakes("a")
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        bare = await client.count_tokens(ASK, model="m")
        with_tools = await client.count_tokens(ASK, model="m", tools=[LOOKUP])
    body = fp["a"].requests[1].body
    assert body is not None and body["tools"][0]["name"] == "lookup_order"
    assert with_tools >= bare


async def test_a_relay_without_the_endpoint_gets_the_local_estimate(
    shell: Shell,
) -> None:
    """A 404 from ``/messages/count_tokens`` falls back to the documented estimate."""
    fp = {"a": FakeProvider(api_key=KEY, count_tokens=False)}
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        counted = await client.count_tokens(ASK, model="m")
        health = client.health().providers["a"]
    assert [r.status for r in fp["a"].requests] == [404]
    assert counted == ASK_ESTIMATE
    assert health.breaker == "closed"


async def test_openai_uses_the_local_estimate_without_sending(shell: Shell) -> None:
    """The OpenAI protocol has no counting endpoint: nothing is sent."""
    fp = fakes("o")
    async with shell.client(config(("o", "openai")), fakes=fp) as client:
        counted = await client.count_tokens(ASK, model="m")
        with_tools = await client.count_tokens(ASK, model="m", tools=[LOOKUP])
    assert fp["o"].requests == []
    assert counted == ASK_ESTIMATE
    assert with_tools > counted


async def test_provider_picks_which_one_counts(shell: Shell) -> None:
    """``provider=`` names the provider; the first configured one by default."""
    fp = fakes("o", "a")
    async with shell.client(
        config(("o", "openai"), ("a", "anthropic")), fakes=fp
    ) as client:
        await client.count_tokens(ASK, model="m")
        await client.count_tokens(ASK, model="m", provider="a")
    assert fp["o"].requests == [] and len(fp["a"].requests) == 1


async def test_errors_are_typed_and_bad_input_is_refused_before_sending(
    shell: Shell,
) -> None:
    """A refused key raises `AuthenticationError`; bad messages or tools send nothing."""
    fp = {"a": FakeProvider(api_key="another-key")}
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        with pytest.raises(AuthenticationError):
            await client.count_tokens(ASK, model="m")
        with pytest.raises(BadRequestError, match="tools"):
            await client.count_tokens(ASK, model="m", tools=[{"description": "x"}])
        with pytest.raises(BadRequestError, match="model"):
            await client.count_tokens(ASK, model="")
    assert len(fp["a"].requests) == 1
