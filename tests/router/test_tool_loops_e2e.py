"""
A customer-service tool loop on both clients across two loopback fake providers
(legacy: OpenAI protocol; holysheep: Anthropic): the provider that answered the first
turn fails and the turn with the tool result finishes on the other protocol, in both
directions, chat and stream; plus structured output after the move.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from router_helpers import two_providers

from holysheep_client import Tool, ToolResult
from holysheep_client.testing import FakeServer, Fault, json_answer, tool_loop
from shells import Shell

pytestmark = pytest.mark.anyio

LOOKUP = Tool(
    "lookup_order",
    "Look an order up by its id.",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)
ASK = {"role": "user", "content": "Where is order 42?"}
SCRIPT = tool_loop("lookup_order", {"order_id": "42"}, "Your order {result}.")
PROTOCOL = {"legacy": "openai", "holysheep": "anthropic"}
OTHER = {"legacy": "holysheep", "holysheep": "legacy"}


def chats(server: FakeServer) -> list[Any]:
    return [r for r in server.requests() if r.endpoint == "chat"]


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("first", ["legacy", "holysheep"])
async def test_the_tool_loop_finishes_on_the_other_protocol(
    servers: dict[str, FakeServer], shell: Shell, first: str, stream: bool
) -> None:
    """Ids kept, arguments in each protocol's form, the result paired with its call."""
    for s in servers.values():
        s.configure(script=SCRIPT)
    weights = {"holysheep_weight": 100, "legacy_weight": 0}
    if first == "legacy":
        weights = {"holysheep_weight": 0, "legacy_weight": 100}
    async with shell.client(two_providers(servers, **weights)) as client:

        async def ask(messages: list[Any]) -> Any:
            kw: dict[str, Any] = {"messages": messages, "model": "m", "tools": [LOOKUP]}
            if not stream:
                return await client.chat(**kw)
            s = await client.stream(**kw)
            assert s.error is None, s.error
            return s.final

        r = await ask([ASK])
        assert r.provider == first and r.stop_reason == "tool_use"
        [call] = r.tool_calls
        servers[first].set_faults([Fault("status", status=503)])
        done = await ask([ASK, r.to_message(), ToolResult(call.id, "has shipped")])
    second = OTHER[first]
    assert done.provider == second and done.text == "Your order has shipped."
    assert [q.status for q in chats(servers[first])] == [200, 503, 503]
    [sent] = chats(servers[second])
    assert sent.status == 200 and sent.stream is stream
    assert sent.protocol == PROTOCOL[second]
    turn, result = sent.body["messages"][1], sent.body["messages"][2]
    if PROTOCOL[second] == "anthropic":
        assert turn["content"] == [
            {
                "type": "tool_use",
                "id": call.id,
                "name": "lookup_order",
                "input": {"order_id": "42"},
            }
        ]
        assert result["content"] == [
            {"type": "tool_result", "tool_use_id": call.id, "content": "has shipped"}
        ]
    else:
        [c] = turn["tool_calls"]
        assert c["id"] == call.id and json.loads(c["function"]["arguments"]) == {
            "order_id": "42"
        }
        assert result == {
            "role": "tool",
            "tool_call_id": call.id,
            "content": "has shipped",
        }


async def test_the_final_answer_as_json_comes_from_the_other_protocol(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """After the move, a structured answer is asked of the Anthropic side as a forced tool."""
    servers["legacy"].configure(script=SCRIPT)
    servers["holysheep"].configure(
        script=json_answer({"order_id": "42", "status": "shipped"})
    )
    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "status": {"type": "string"}},
        "required": ["order_id", "status"],
    }
    cfg = two_providers(servers, holysheep_weight=0, legacy_weight=100)
    async with shell.client(cfg) as client:
        r = await client.chat(messages=[ASK], model="m", tools=[LOOKUP])
        assert r.provider == "legacy"
        messages = [ASK, r.to_message(), ToolResult(r.tool_calls[0].id, "shipped")]
        servers["legacy"].set_faults([Fault("drop")])
        done = await client.chat(
            messages=messages,
            model="m",
            tools=[LOOKUP],
            tool_choice="none",  # no more lookups: the answer, as JSON
            response_format=schema,
        )
    assert done.provider == "holysheep"
    assert done.parsed == {"order_id": "42", "status": "shipped"}
    [sent] = chats(servers["holysheep"])
    assert sent.status == 200
    assert sent.body["tool_choice"] == {"type": "tool", "name": "structured_output"}
    assert [t["name"] for t in sent.body["tools"]] == [
        "lookup_order",
        "structured_output",
    ]
