"""
Tool loops through both clients against the strict fake: on each protocol, and across
a failover from one protocol to the other in both directions (ids kept, arguments as
objects or JSON strings, results paired), with the fake's records checked too; and
structured output failed over to the other protocol.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from client_helpers import config, fakes
from pydantic import BaseModel

from holysheep_client import (
    BreakerConfig,
    ChatResponse,
    Tool,
    ToolResult,
    ToolUseBlock,
)
from holysheep_client.testing import (
    FakeChat,
    FakeProvider,
    FakeReply,
    FakeToolCall,
    Fault,
    json_answer,
    tool_loop,
)
from shells import Shell, ShellClient

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
OTHER = {"openai": "anthropic", "anthropic": "openai"}


def chats(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.endpoint == "chat"]


def result_message(style: str, call: ToolUseBlock, text: str) -> Any:
    """The tool's result as the caller writes it: ours, OpenAI's or Anthropic's."""
    if style == "openai":
        return {"role": "tool", "tool_call_id": call.id, "content": text}
    if style == "anthropic":
        return {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": text}
            ],
        }
    return ToolResult(call.id, text)


def assert_loop_sent(body: dict[str, Any], protocol: str, call: ToolUseBlock) -> None:
    """The body carries ``call`` and its result in ``protocol``'s own shape."""
    if protocol == "anthropic":
        assert body["messages"][1]["content"] == [
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": {"order_id": "42"},
            }
        ]
        assert body["messages"][2]["content"][0]["tool_use_id"] == call.id
        assert body["tools"][0]["name"] == "lookup_order"
    else:
        [sent] = body["messages"][1]["tool_calls"]
        assert sent["id"] == call.id and sent["function"]["name"] == call.name
        assert json.loads(sent["function"]["arguments"]) == {"order_id": "42"}
        assert body["messages"][2] == {
            "role": "tool",
            "tool_call_id": call.id,
            "content": "has shipped",
        }
        assert body["tools"][0]["function"]["name"] == "lookup_order"


@pytest.mark.parametrize("style", ["ours", "openai", "anthropic"])
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_a_tool_loop_on_each_protocol(
    shell: Shell, protocol: str, style: str
) -> None:
    """The model calls the tool, the caller answers it, the model uses the result."""
    fp = fakes("a", script=SCRIPT)
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        messages: list[Any] = [ASK]
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
        assert r.stop_reason == "tool_use" and r.text == ""
        [call] = r.tool_calls
        assert (call.name, dict(call.input)) == ("lookup_order", {"order_id": "42"})
        messages += [r.to_message(), result_message(style, call, "has shipped")]
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
    assert r.text == "Your order has shipped." and r.stop_reason == "end_turn"
    assert r.tool_calls == []
    first, second = chats(fp["a"])
    assert (first.status, second.status) == (200, 200)
    assert_loop_sent(second.body, protocol, call)


async def open_breaker(client: ShellClient, fake: FakeProvider) -> None:
    """Fail ``fake`` until its breaker opens (a plain call fails over meanwhile)."""
    fake.set_faults([Fault("status", status=503)])
    r = await client.chat(messages=[{"role": "user", "content": "hi"}], model="m")
    assert r.provider == "b"
    assert client.health().providers["a"].breaker == "open"


@pytest.mark.parametrize("failure", ["503", "breaker"])
@pytest.mark.parametrize("first", ["openai", "anthropic"])
async def test_a_tool_loop_crosses_protocols_when_its_provider_fails(
    shell: Shell, first: str, failure: str
) -> None:
    """Turn one on one protocol, its provider fails, the result goes to the other."""
    fp = fakes("a", "b", script=SCRIPT)
    cfg = config(
        ("a", first),
        ("b", OTHER[first]),
        circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=600),
    )
    async with shell.client(cfg, fakes=fp) as client:
        client.set_weights({"a": 1, "b": 0})
        messages: list[Any] = [ASK]
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
        assert r.provider == "a" and r.stop_reason == "tool_use"
        [call] = r.tool_calls
        messages += [r.to_message(), ToolResult(call.id, "has shipped")]
        if failure == "503":
            fp["a"].set_faults([Fault("status", status=503)])
        else:
            await open_breaker(client, fp["a"])
        tried = len(chats(fp["a"]))
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
    assert r.provider == "b" and r.text == "Your order has shipped."
    after = chats(fp["a"])[tried:]
    assert [q.status for q in after] == ([503, 503] if failure == "503" else [])
    [answered] = [q for q in chats(fp["b"]) if len(q.body["messages"]) > 1]
    assert answered.status == 200
    assert_loop_sent(answered.body, OTHER[first], call)


def two_calls(ids: tuple[str, str]) -> Any:
    """A model that looks two orders up at once, then answers with both results."""

    def script(chat: FakeChat) -> str | FakeReply:
        done = chat.messages[-1].tool_results
        if done:
            return " and ".join(f"{r.tool_use_id}: {r.content}" for r in done)
        return FakeReply(
            tool_calls=[FakeToolCall("lookup_order", {"order_id": i}, i) for i in ids]
        )

    return script


@pytest.mark.parametrize(
    ("first", "ids"),
    [
        pytest.param("openai", ("call.1", "call:1"), id="openai-ids-anthropic-refuses"),
        pytest.param("anthropic", ("toolu_01A", "toolu_01B"), id="anthropic-ids"),
    ],
)
async def test_two_calls_of_one_turn_stay_paired_across_protocols(
    shell: Shell, first: str, ids: tuple[str, str]
) -> None:
    """Both calls keep distinct ids on the other protocol and pair with their results."""
    fp = fakes("a", "b")
    fp["a"].script = fp["b"].script = two_calls(ids)
    async with shell.client(
        config(("a", first), ("b", OTHER[first])), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        r = await client.chat(messages=[ASK], model="m", tools=[LOOKUP])
        assert [c.id for c in r.tool_calls] == list(ids)
        messages = [ASK, r.to_message()]
        messages += [
            ToolResult(c.id, f"order {c.input['order_id']} shipped")
            for c in r.tool_calls
        ]
        fp["a"].set_faults([Fault("drop")])
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
    assert r.provider == "b"
    [sent] = chats(fp["b"])
    assert sent.status == 200
    if first == "openai":
        uses = [b["id"] for b in sent.body["messages"][1]["content"]]
        results = [b["tool_use_id"] for b in sent.body["messages"][2]["content"]]
        assert uses == results and len(set(uses)) == 2
    else:
        uses = [c["id"] for c in sent.body["messages"][1]["tool_calls"]]
        assert (
            uses == list(ids) == [m["tool_call_id"] for m in sent.body["messages"][2:]]
        )
    assert (
        r.text
        == f"{uses[0]}: order {ids[0]} shipped and {uses[1]}: order {ids[1]} shipped"
    )


@pytest.mark.parametrize("first", ["openai", "anthropic"])
async def test_a_thinking_tool_loop_crosses_protocols(shell: Shell, first: str) -> None:
    """With reasoning on, the loop crosses either way and each body suits its API."""
    fp = fakes("a", "b")
    fp["a"].script = fp["b"].script = lambda chat: (
        SCRIPT(chat)
        if chat.messages[-1].tool_results
        else FakeReply(
            thinking="Look it up.",
            tool_calls=[FakeToolCall("lookup_order", {"order_id": "42"})],
        )
    )
    async with shell.client(
        config(("a", first), ("b", OTHER[first])), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        kw: dict[str, Any] = {
            "model": "m",
            "tools": [LOOKUP],
            "max_tokens": 4096,
            "reasoning": "low",
        }
        r = await client.chat(messages=[ASK], **kw)
        assert r.reasoning == "Look it up."
        messages = [ASK, r.to_message(), ToolResult(r.tool_calls[0].id, "has shipped")]
        fp["a"].set_faults([Fault("status", status=500)])
        done: ChatResponse = await client.chat(messages=messages, **kw)
    assert done.provider == "b" and done.text == "Your order has shipped."
    [sent] = chats(fp["b"])
    assert sent.status == 200
    if first == "openai":
        assert "thinking" not in sent.body, "the loop began with no signed thinking"
        assert sent.body["messages"][1]["content"][0]["type"] == "tool_use"
    else:
        assert sent.body["reasoning_effort"] == "low"
        assert "reasoning_content" not in sent.body["messages"][1]


class Shipment(BaseModel):
    """Where an order is."""

    order_id: str
    shipped: bool


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("first", ["openai", "anthropic"])
async def test_structured_output_survives_a_failover_to_the_other_protocol(
    shell: Shell, first: str, stream: bool
) -> None:
    """The schema goes out in the other protocol's form and the answer is parsed."""
    fp = fakes("a", "b", script=json_answer({"order_id": "42", "shipped": True}))
    fp["a"].set_faults([Fault("status", status=529 if first == "anthropic" else 503)])
    async with shell.client(
        config(("a", first), ("b", OTHER[first])), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        kw: dict[str, Any] = {
            "messages": [ASK],
            "model": "m",
            "response_format": Shipment,
        }
        if stream:
            s = await client.stream(**kw)
            assert s.error is None and s.final is not None
            r = s.final
        else:
            r = await client.chat(**kw)
    assert r.provider == "b" and r.parsed == Shipment(order_id="42", shipped=True)
    assert [q.status for q in chats(fp["a"])] == [fp["a"].faults[0].status] * 2
    [sent] = chats(fp["b"])
    assert sent.status == 200
    if first == "openai":
        assert sent.body["tool_choice"] == {"type": "tool", "name": "structured_output"}
        assert sent.body["tools"][0]["input_schema"]["required"] == [
            "order_id",
            "shipped",
        ]
        assert "response_format" not in sent.body
    else:
        fmt = sent.body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"]["additionalProperties"] is False
        assert "tool_choice" not in sent.body


def looks_up_then_answers_json(chat: FakeChat) -> FakeReply:
    """A model that calls the tool, then gives its final answer as structured output."""
    value = {"order_id": "42", "shipped": chat.messages[-1].tool_results != ()}
    if not chat.messages[-1].tool_results:
        return FakeReply(tool_calls=[FakeToolCall("lookup_order", {"order_id": "42"})])
    if chat.protocol == "anthropic":  # tool_choice "any": it calls the output tool
        return FakeReply(tool_calls=[FakeToolCall("structured_output", value)])
    return FakeReply(json=value)


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_a_tool_call_is_a_turn_of_the_loop_not_a_wrong_answer(
    shell: Shell, protocol: str, stream: bool
) -> None:
    """With tools and response_format, a tool call comes back unchecked (asked once);
    the answer that ends the loop is the one parsed."""
    fp = fakes("a", script=looks_up_then_answers_json)
    async with shell.client(config(("a", protocol)), fakes=fp) as client:

        async def ask(messages: list[Any]) -> ChatResponse:
            kw: dict[str, Any] = {
                "messages": messages, "model": "m", "tools": [LOOKUP],
                "response_format": Shipment,
            }  # fmt: skip
            if not stream:
                return await client.chat(**kw)
            s = await client.stream(**kw)
            assert s.error is None and s.final is not None, s.error
            return s.final

        r = await ask([ASK])
        assert r.stop_reason == "tool_use" and r.parsed is None
        assert len(chats(fp["a"])) == 1, "a tool call is no fault to ask again"
        [call] = r.tool_calls
        done = await ask([ASK, r.to_message(), ToolResult(call.id, "shipped")])
    assert done.parsed == Shipment(order_id="42", shipped=True)
    assert done.tool_calls == [] and done.stop_reason == "end_turn"


# An id as some OpenAI-compatible providers give them: 43 characters, more than the
# OpenAI API takes back (40), with a '.' the Anthropic API refuses outright.
LONG_ID = "call_0.3f5a2b8c-1d4e-4f6a-9b7c-2e8d1a0f5c3b"
LONG_ID_2 = LONG_ID[:-1] + "d"


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
async def test_foreign_tool_call_ids_are_sent_as_each_protocol_takes_them(
    shell: Shell, protocol: str
) -> None:
    """A history with a long, unsafe id from another provider goes to either protocol:
    the id is mapped the same for the call and its result, so they stay paired, and
    two ids that differ only at the end stay two (the strict fake refuses either)."""
    fp = fakes("a")
    calls = [
        ToolUseBlock(LONG_ID, "lookup_order", {"order_id": "42"}),
        ToolUseBlock(LONG_ID_2, "lookup_order", {"order_id": "43"}),
    ]
    messages: list[Any] = [
        ASK,
        {"role": "assistant", "content": calls},
        {"role": "user", "content": [ToolResult(c.id, "shipped") for c in calls]},
    ]
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        r = await client.chat(messages=messages, model="m", tools=[LOOKUP])
    [sent] = chats(fp["a"])
    assert sent.status == 200 and r.provider == "a"
    body = sent.body
    if protocol == "openai":
        ids = [c["id"] for c in body["messages"][1]["tool_calls"]]
        answered = [m["tool_call_id"] for m in body["messages"][2:4]]
        assert all(len(i) <= 40 for i in ids)
    else:
        ids = [b["id"] for b in body["messages"][1]["content"]]
        answered = [b["tool_use_id"] for b in body["messages"][2]["content"]]
        assert all("." not in i for i in ids)
    assert ids == answered and len(set(ids)) == 2


async def test_structured_output_beside_tools_is_parsed_on_anthropic(
    shell: Shell,
) -> None:
    """With the caller's tools too, Anthropic gets tool_choice any; the model's call
    of the output tool is the parsed answer, not a tool call for the caller."""
    fp = fakes("a", script=json_answer({"order_id": "42", "shipped": True}))
    async with shell.client(config(("a", "anthropic")), fakes=fp) as client:
        r = await client.chat(
            messages=[ASK], model="m", tools=[LOOKUP], response_format=Shipment
        )
    [sent] = chats(fp["a"])
    assert sent.body["tool_choice"] == {"type": "any"}
    assert r.parsed == Shipment(order_id="42", shipped=True)
    assert r.tool_calls == []
