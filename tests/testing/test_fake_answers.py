"""
Scripted answers on the wire: tool calls, thinking, JSON, cache usage, streams, faults.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from fake_helpers import (
    ANTHROPIC,
    ANTHROPIC_TOOL,
    OPENAI_TOOL,
    USER,
    completions,
    events,
    messages,
)

from holysheep_client.testing import (
    FakeClock,
    FakeProvider,
    FakeReply,
    FakeToolCall,
    Fault,
)
from holysheep_client.testing._plan import signature_of

CALL = FakeToolCall("lookup_order", {"order_id": "A1", "note": "rush order"})
TOOL_REPLY = FakeReply(text="Checking now.", tool_calls=[CALL])
THINK = {"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024}}
ARGS = json.dumps(dict(CALL.input))


def test_anthropic_answer_has_tool_use_blocks() -> None:
    """Tool calls become tool_use blocks after the text, with stop_reason tool_use."""
    body = messages(FakeProvider(script=TOOL_REPLY), tools=[ANTHROPIC_TOOL]).json()
    text, call = body["content"]
    assert text == {"type": "text", "text": "Checking now."}
    assert (call["type"], call["name"], call["input"]) == (
        "tool_use",
        "lookup_order",
        dict(CALL.input),
    )
    assert call["id"].startswith("toolu_")
    assert body["stop_reason"] == "tool_use"
    assert body["usage"]["output_tokens"] == 2 + len(ARGS.split())


def test_anthropic_stream_sends_tool_input_as_json_deltas() -> None:
    """A streamed tool call is content_block_start (empty input), input_json_delta, stop."""
    r = messages(FakeProvider(script=TOOL_REPLY), tools=[ANTHROPIC_TOOL], stream=True)
    data = events(r.text)
    kinds = [(d["type"], d.get("delta", {}).get("type")) for d in data]
    assert kinds[:3] == [
        ("message_start", None),
        ("content_block_start", None),
        ("ping", None),
    ]
    start = next(
        d for d in data if d["type"] == "content_block_start" and d["index"] == 1
    )
    assert start["content_block"] == {
        "type": "tool_use",
        "id": start["content_block"]["id"],
        "name": "lookup_order",
        "input": {},
    }
    fragments = [
        d["delta"]["partial_json"]
        for d in data
        if d.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == dict(CALL.input)
    stops = [d["index"] for d in data if d["type"] == "content_block_stop"]
    assert stops == [0, 1]
    assert data[-2]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_thinking_block_is_signed_and_streamed_with_its_signature() -> None:
    """thinking comes first with a signature; streamed as thinking_delta then signature_delta."""
    provider = FakeProvider(
        script=FakeReply(thinking="Let me look it up.", text="Done.")
    )
    body = messages(provider, **THINK).json()
    assert body["content"][0] == {
        "type": "thinking",
        "thinking": "Let me look it up.",
        "signature": signature_of("Let me look it up."),
    }
    data = events(messages(provider, stream=True, **THINK).text)
    assert data[1]["content_block"] == {
        "type": "thinking",
        "thinking": "",
        "signature": "",
    }
    deltas = [
        d["delta"]
        for d in data
        if d["type"] == "content_block_delta" and d["index"] == 0
    ]
    assert "".join(d.get("thinking", "") for d in deltas) == "Let me look it up."
    assert deltas[-1] == {
        "type": "signature_delta",
        "signature": signature_of("Let me look it up."),
    }


def test_anthropic_omits_thinking_the_request_did_not_enable() -> None:
    """Without thinking enabled in the request, a scripted thinking text is not sent."""
    body = messages(FakeProvider(script=FakeReply(thinking="hm", text="Done."))).json()
    assert [b["type"] for b in body["content"]] == ["text"]


def test_anthropic_thinking_on_answers_begin_a_turn_with_a_signed_block() -> None:
    """With thinking on and none scripted, a turn opens with a signed block, the
    fake accepts it back in the tool loop, and the answer to the result has none."""
    provider = FakeProvider(script=TOOL_REPLY)
    first = messages(provider, tools=[ANTHROPIC_TOOL], **THINK).json()
    thinking, _, call = first["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"]
    assert thinking["signature"] == signature_of(thinking["thinking"])
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "shipped"}
    history = [
        *USER,
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [result]},
    ]
    provider.script = FakeReply(text="It has shipped.")
    r = messages(provider, tools=[ANTHROPIC_TOOL], messages=history, **THINK)
    assert r.status_code == 200, r.text
    assert [b["type"] for b in r.json()["content"]] == ["text"]


def test_openai_answer_has_tool_calls_with_json_string_arguments() -> None:
    """Tool calls become message.tool_calls (arguments a JSON string), finish tool_calls."""
    body = completions(
        FakeProvider(script=FakeReply(tool_calls=[CALL])), tools=[OPENAI_TOOL]
    ).json()
    choice = body["choices"][0]
    [call] = choice["message"]["tool_calls"]
    assert (call["type"], call["function"]["name"]) == ("function", "lookup_order")
    assert json.loads(call["function"]["arguments"]) == dict(CALL.input)
    assert call["id"].startswith("call_")
    assert (choice["message"]["content"], choice["finish_reason"]) == (
        None,
        "tool_calls",
    )


def test_openai_stream_sends_the_id_and_name_first_then_argument_fragments() -> None:
    """Streamed tool calls: index, id, type and name first, then arguments fragments."""
    script = FakeReply(
        tool_calls=[CALL, FakeToolCall("lookup_order", {"order_id": "B2"}, "call_mine")]
    )
    r = completions(FakeProvider(script=script), tools=[OPENAI_TOOL], stream=True)
    chunks = [c["choices"][0] for c in events(r.text) if c["choices"]]
    calls = [c["delta"]["tool_calls"][0] for c in chunks if "tool_calls" in c["delta"]]
    heads = [c for c in calls if "id" in c]
    assert [(h["index"], h["type"], h["function"]) for h in heads] == [
        (0, "function", {"name": "lookup_order", "arguments": ""}),
        (1, "function", {"name": "lookup_order", "arguments": ""}),
    ]
    assert heads[1]["id"] == "call_mine"
    for index, expected in ((0, dict(CALL.input)), (1, {"order_id": "B2"})):
        fragments = [
            c["function"]["arguments"]
            for c in calls
            if c["index"] == index and "id" not in c
        ]
        assert json.loads("".join(fragments)) == expected
    assert chunks[-1]["finish_reason"] == "tool_calls"


def test_openai_reasoning_is_deepseek_style_reasoning_content() -> None:
    """Thinking is message.reasoning_content and delta.reasoning_content, counted as reasoning tokens."""
    provider = FakeProvider(script=FakeReply(thinking="Let me look.", text="Done."))
    body = completions(provider).json()
    message = body["choices"][0]["message"]
    assert (message["reasoning_content"], message["content"]) == (
        "Let me look.",
        "Done.",
    )
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    assert body["usage"]["completion_tokens"] == 4
    chunks = events(completions(provider, stream=True).text)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Let me look."
    assert "".join(d.get("content") or "" for d in deltas) == "Done."


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_cache_usage_has_each_protocols_shape(stream: bool) -> None:
    """Anthropic reports uncached input plus cache reads/writes; OpenAI counts all, cached apart."""
    provider = FakeProvider(
        script=FakeReply(text="ok", cache_read_tokens=100, cache_write_tokens=20)
    )
    a = messages(provider, stream=stream)
    usage = events(a.text)[0]["message"]["usage"] if stream else a.json()["usage"]
    assert (
        usage["input_tokens"],
        usage["cache_read_input_tokens"],
        usage["cache_creation_input_tokens"],
    ) == (4, 100, 20)
    o = completions(
        provider,
        stream=stream,
        **({"stream_options": {"include_usage": True}} if stream else {}),
    )
    usage = events(o.text)[-1]["usage"] if stream else o.json()["usage"]
    assert (usage["prompt_tokens"], usage["total_tokens"]) == (124, 125)
    assert usage["prompt_tokens_details"] == {
        "cached_tokens": 100,
        "audio_tokens": 0,
        "cache_write_tokens": 20,
    }


@pytest.mark.parametrize(
    ("after", "kinds"),
    [(1, ["text_delta"]), (3, ["text_delta", "text_delta", "input_json_delta"])],
    ids=["before-the-call", "inside-the-call"],
)
def test_a_cut_can_strike_inside_a_streamed_tool_call(
    after: int, kinds: list[str]
) -> None:
    """after_chunks counts tool-JSON deltas too, so a cut can break a tool call apart."""
    provider = FakeProvider(
        script=TOOL_REPLY, faults=[Fault("cut", after_chunks=after)]
    )
    sent: list[str] = []
    body = {
        "model": "m",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [ANTHROPIC_TOOL],
    }
    with (
        httpx2.Client(transport=provider.sync_transport(), base_url=provider.url) as c,
        c.stream("POST", "/messages", json=body, headers=ANTHROPIC) as r,
        pytest.raises(httpx2.RemoteProtocolError),
    ):
        sent.extend(r.iter_lines())
    data = events("\n".join(sent))
    assert [
        d["delta"]["type"] for d in data if d["type"] == "content_block_delta"
    ] == kinds
    assert not any(d["type"] == "message_delta" for d in data)


def test_a_stall_inside_openai_tool_arguments_waits_in_virtual_time() -> None:
    """A stall after N deltas pauses inside the tool arguments, then the stream ends well."""
    clock = FakeClock()
    provider = FakeProvider(
        script=FakeReply(tool_calls=[CALL]),
        clock=clock,
        faults=[Fault("stall", after_chunks=2, delay=3.0)],
    )
    chunks = events(completions(provider, tools=[OPENAI_TOOL], stream=True).text)
    assert clock.sleeps == [3.0]
    fragments = [
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert json.loads("".join(fragments)) == dict(CALL.input)


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
def test_max_tokens_cuts_a_tool_call_as_the_apis_do(protocol: str) -> None:
    """Cut inside a tool call: Anthropic drops the unfinished tool_use, OpenAI keeps partial arguments."""
    provider = FakeProvider(script=TOOL_REPLY)
    if protocol == "anthropic":
        body = messages(provider, tools=[ANTHROPIC_TOOL], max_tokens=4).json()
        assert (body["content"], body["stop_reason"]) == (
            [{"type": "text", "text": "Checking now."}],
            "max_tokens",
        )
        return
    body = completions(provider, tools=[OPENAI_TOOL], max_tokens=4).json()["choices"][0]
    arguments = body["message"]["tool_calls"][0]["function"]["arguments"]
    assert ARGS.startswith(arguments) and arguments != ARGS
    assert body["finish_reason"] == "length"


def test_stop_sequences_cut_the_text_and_say_which() -> None:
    """A stop sequence in the reply ends it there: stop_sequence on Anthropic, stop on OpenAI."""
    provider = FakeProvider(reply="one two END three")
    body = messages(provider, stop_sequences=["END"]).json()
    assert (body["content"][0]["text"], body["stop_reason"], body["stop_sequence"]) == (
        "one two ",
        "stop_sequence",
        "END",
    )
    choice = completions(provider, stop=["END"]).json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (
        "one two ",
        "stop",
    )


@pytest.mark.parametrize(
    ("reply", "anthropic", "openai"),
    [
        (
            FakeReply(text="I can't help with that.", stop_reason="refusal"),
            "refusal",
            "stop",
        ),
        (
            FakeReply(text="Done.", tool_calls=[CALL], stop_reason="end_turn"),
            "end_turn",
            "stop",
        ),
    ],
    ids=["refusal", "override"],
)
def test_scripted_stop_reasons_map_to_each_protocol(
    reply: FakeReply, anthropic: str, openai: str
) -> None:
    """A FakeReply's stop_reason is sent as is on Anthropic and mapped on OpenAI."""
    provider = FakeProvider(script=reply)
    assert messages(provider, tools=[ANTHROPIC_TOOL]).json()["stop_reason"] == anthropic
    choice: dict[str, Any] = completions(provider, tools=[OPENAI_TOOL]).json()[
        "choices"
    ][0]
    assert choice["finish_reason"] == openai
    if anthropic == "refusal":
        assert (choice["message"]["content"], choice["message"]["refusal"]) == (
            None,
            reply.text,
        )
