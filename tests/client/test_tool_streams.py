"""
Streamed tool calls through both clients on both protocols: typed events, the final
answer holding the calls, a streamed loop across a failover, and breaks inside a
tool call that ``resume=True`` does not paper over.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from client_helpers import config, fakes

from holysheep_client import (
    StreamInterruptedError,
    TextDelta,
    Tool,
    ToolResult,
    ToolUseDelta,
    ToolUseEnd,
    ToolUseStart,
)
from holysheep_client.testing import FakeReply, FakeToolCall, Fault, tool_loop
from shells import Shell

pytestmark = pytest.mark.anyio

LOOKUP = Tool(
    "lookup_order",
    "Look an order up by its id.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
)
ASK = {"role": "user", "content": "Where is order 42?"}
CALL = FakeToolCall("lookup_order", {"order_id": "42"})
OTHER = {"openai": "anthropic", "anthropic": "openai"}


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_a_streamed_tool_call_gives_typed_events_and_the_final_calls(
    shell: Shell, protocol: str
) -> None:
    """Text deltas, then start, argument deltas and end of the call, in that order."""
    fp = fakes("a", script=FakeReply(text="Checking now.", tool_calls=[CALL]))
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        s = await client.stream(messages=[ASK], model="m", tools=[LOOKUP])
    assert s.error is None and s.final is not None
    kinds = [type(e) for e in s.events]
    assert kinds[:3] == [TextDelta, TextDelta, ToolUseStart]
    assert kinds[-1] is ToolUseEnd and set(kinds[3:-1]) == {ToolUseDelta}
    start, end = s.events[2], s.events[-1]
    assert isinstance(start, ToolUseStart) and isinstance(end, ToolUseEnd)
    assert start.name == "lookup_order" and start.id == end.block.id
    fragments = "".join(e.partial_json for e in s.events if isinstance(e, ToolUseDelta))
    assert json.loads(fragments) == {"order_id": "42"}
    assert s.text == s.final.text == "Checking now."
    assert s.final.tool_calls == [end.block] and s.final.stop_reason == "tool_use"
    assert dict(end.block.input) == {"order_id": "42"}


@pytest.mark.parametrize("first", ["openai", "anthropic"])
async def test_a_streamed_tool_loop_fails_over_to_the_other_protocol(
    shell: Shell, first: str
) -> None:
    """The streamed call's final answer is the next turn; the result turn moves over."""
    fp = fakes(
        "a", "b", script=tool_loop("lookup_order", {"order_id": "42"}, "It {result}.")
    )
    async with shell.client(
        config(("a", first), ("b", OTHER[first])), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        s = await client.stream(messages=[ASK], model="m", tools=[LOOKUP])
        assert s.final is not None and s.final.provider == "a"
        [call] = s.final.tool_calls
        messages: list[Any] = [
            ASK,
            s.final.to_message(),
            ToolResult(call.id, "has shipped"),
        ]
        fp["a"].set_faults([Fault("status", status=503)])
        done = await client.stream(messages=messages, model="m", tools=[LOOKUP])
    assert done.error is None and done.final is not None
    assert done.final.provider == "b" and done.text == "It has shipped."
    [sent] = [r for r in fp["b"].requests if r.endpoint == "chat"]
    assert sent.status == 200 and sent.stream
    body = sent.body
    if first == "openai":
        assert body["messages"][1]["content"][0]["id"] == call.id
        assert body["messages"][2]["content"][0]["tool_use_id"] == call.id
    else:
        assert body["messages"][1]["tool_calls"][0]["id"] == call.id
        assert body["messages"][2]["tool_call_id"] == call.id


BREAKS = [
    pytest.param(FakeReply(tool_calls=[CALL]), 1, "", id="inside-the-only-call"),
    pytest.param(
        FakeReply(text="Checking now.", tool_calls=[CALL]),
        3,
        "Checking now.",
        id="after-text-inside-the-call",
    ),
    pytest.param(
        FakeReply(tool_calls=[CALL, FakeToolCall("lookup_order", {"order_id": "43"})]),
        3,
        "",
        id="inside-the-second-call",
    ),
]


@pytest.mark.parametrize(("reply", "after", "partial"), BREAKS)
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_a_break_inside_a_tool_call_is_never_resumed(
    shell: Shell, protocol: str, reply: FakeReply, after: int, partial: str
) -> None:
    """With resume=True a cut inside a tool call raises; the healthy provider gets nothing."""
    fp = fakes("a", "b", script=reply)
    fp["a"].set_faults([Fault("cut", after_chunks=after)])
    async with shell.client(
        config(("a", protocol), ("b", OTHER[protocol])), fakes=fp
    ) as client:
        client.set_weights({"a": 1, "b": 0})
        s = await client.stream(messages=[ASK], model="m", tools=[LOOKUP], resume=True)
    assert isinstance(s.error, StreamInterruptedError), s.error
    assert s.error.partial_text == partial and s.final is None
    assert any(isinstance(e, ToolUseStart) for e in s.events)
    assert not isinstance(s.events[-1], ToolUseEnd), "the break is inside a call"
    assert not fp["b"].requests
