"""
The script API: the FakeChat view, tool_loop, json_answer, defaults and FakeReply.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_helpers import (
    ANTHROPIC_TOOL,
    OPENAI_TOOL,
    PNG_B64,
    SCHEMA,
    USER,
    completions,
    messages,
)

from holysheep_client.testing import (
    DEFAULT_REPLY,
    FakeChat,
    FakeMessage,
    FakeProvider,
    FakeReply,
    FakeToolCall,
    FakeToolResult,
    json_answer,
    schema_example,
    tool_loop,
)
from holysheep_client.testing._ready_scripts import script_from_spec, script_to_spec

ANTHROPIC_HISTORY = [
    {"role": "user", "content": "where is A1"},
    {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "lookup_order", "input": {"order_id": "A1"}},
    ]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "shipped"},
        {"type": "text", "text": "and B2?"},
    ]},
]  # fmt: skip
OPENAI_HISTORY = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "where is A1"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "lookup_order", "arguments": '{"order_id": "A1"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "shipped"},
    {"role": "user", "content": "and B2?"},
]  # fmt: skip
LOOP = tool_loop("lookup_order", {"order_id": "A1"}, "Your order is {result}.")


def recording() -> tuple[FakeProvider, list[FakeChat]]:
    """A provider whose script records the FakeChat it is given."""
    seen: list[FakeChat] = []

    def script(chat: FakeChat) -> str:
        seen.append(chat)
        return "ok"

    return FakeProvider(script=script), seen


def test_the_same_conversation_gives_the_same_view_on_both_protocols() -> None:
    """A tool loop written for either protocol reads as the same FakeChat turns."""
    provider, seen = recording()
    messages(
        provider, system="be brief", tools=[ANTHROPIC_TOOL], messages=ANTHROPIC_HISTORY
    )
    completions(provider, tools=[OPENAI_TOOL], messages=OPENAI_HISTORY)
    a, o = seen
    expected = (
        FakeMessage("user", "where is A1"),
        FakeMessage("assistant", "Checking.", (FakeToolCall("lookup_order", {"order_id": "A1"}, "call_1"),)),
        FakeMessage("user", "and B2?", tool_results=(FakeToolResult("call_1", "shipped", False, "lookup_order"),)),
    )  # fmt: skip
    assert a.messages == o.messages == expected
    assert (a.system, a.tools, a.last_user_text) == (o.system, o.tools, "and B2?")
    assert (a.protocol, o.protocol) == ("anthropic", "openai")
    assert a.result_for("lookup_order") == expected[2].tool_results[0]


CHOICES = [
    ("anthropic-auto", "anthropic", {"type": "auto"}, ("auto", None)),
    ("anthropic-any", "anthropic", {"type": "any"}, ("any", None)),
    ("anthropic-tool", "anthropic", {"type": "tool", "name": "lookup_order"}, ("tool", "lookup_order")),
    ("anthropic-none", "anthropic", {"type": "none"}, ("none", None)),
    ("openai-auto", "openai", "auto", ("auto", None)),
    ("openai-required", "openai", "required", ("any", None)),
    ("openai-function", "openai", {"type": "function", "function": {"name": "lookup_order"}}, ("tool", "lookup_order")),
    ("openai-none", "openai", "none", ("none", None)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("protocol", "choice", "expected"),
    [c[1:] for c in CHOICES],
    ids=[c[0] for c in CHOICES],
)
def test_tool_choice_reads_the_same_on_both_protocols(
    protocol: str, choice: Any, expected: tuple[str, str | None]
) -> None:
    """tool_choice maps to one vocabulary: auto, any, none, or a forced tool."""
    provider, seen = recording()
    if protocol == "anthropic":
        messages(provider, tools=[ANTHROPIC_TOOL], tool_choice=choice)
    else:
        completions(provider, tools=[OPENAI_TOOL], tool_choice=choice)
    assert (seen[0].tool_choice, seen[0].forced_tool) == expected


def test_view_carries_schema_images_stream_reasoning_and_stop() -> None:
    """The view shows the schema asked for, images, streaming, reasoning and stops."""
    provider, seen = recording()
    strict = {"name": "order", "schema": SCHEMA}
    image = {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG_B64}"},
    }
    completions(
        provider, response_format={"type": "json_schema", "json_schema": strict},
        reasoning_effort="high", stop="END", stream=True,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "hi"}]}],
    )  # fmt: skip
    messages(
        provider, max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1024},
        tools=[ANTHROPIC_TOOL], tool_choice={"type": "auto"},
    )  # fmt: skip
    messages(
        provider,
        tools=[ANTHROPIC_TOOL],
        tool_choice={"type": "tool", "name": "lookup_order"},
    )
    messages(
        provider,
        output_config={
            "effort": "low",
            "format": {"type": "json_schema", "schema": SCHEMA},
        },
    )
    o, thinking, forced, fmt = seen
    assert (o.schema, o.schema_name, o.wants_json) == (SCHEMA, "order", True)
    assert (o.has_images, o.stream, o.reasoning, o.stop) == (
        True,
        True,
        "high",
        ("END",),
    )
    assert o.messages[0].images == 1
    assert (thinking.reasoning, thinking.schema, thinking.max_tokens) == (
        1024,
        None,
        2000,
    )
    assert (forced.schema, forced.schema_name) == (SCHEMA, "lookup_order")
    assert (fmt.schema, fmt.schema_name, fmt.reasoning) == (SCHEMA, None, "low")


def test_tool_loop_calls_the_tool_then_answers_with_its_result() -> None:
    """tool_loop calls its tool first, and once the result is back, answers with it."""
    provider = FakeProvider(script=LOOP)
    first = messages(provider, tools=[ANTHROPIC_TOOL]).json()
    [call] = first["content"]
    assert (call["type"], call["name"], call["input"], first["stop_reason"]) == (
        "tool_use", "lookup_order", {"order_id": "A1"}, "tool_use",
    )  # fmt: skip
    history = [
        *USER,
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "shipped"}]},
    ]  # fmt: skip
    final = messages(provider, tools=[ANTHROPIC_TOOL], messages=history).json()
    assert final["content"] == [{"type": "text", "text": "Your order is shipped."}]
    assert final["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, DEFAULT_REPLY),
        ({"tools": [OPENAI_TOOL], "tool_choice": "none"}, DEFAULT_REPLY),
        (
            {"tools": [OPENAI_TOOL], "messages": [*OPENAI_HISTORY[:4]]},
            "Your order is shipped.",
        ),
    ],
    ids=["not-offered", "choice-none", "result-back"],
)
def test_tool_loop_answers_without_calling_when_it_may_not(
    overrides: dict[str, Any], expected: str
) -> None:
    """Without its tool (or with tool_choice none) tool_loop answers as the default does."""
    body = completions(FakeProvider(script=LOOP), **overrides).json()
    assert body["choices"][0]["message"]["content"] == expected


def test_tool_loop_calls_again_for_a_new_question() -> None:
    """After a finished loop, a new user question makes the tool run again."""
    done = [*OPENAI_HISTORY[:4], {"role": "assistant", "content": "Shipped."}, *USER]
    body = completions(
        FakeProvider(script=LOOP), tools=[OPENAI_TOOL], messages=done
    ).json()
    assert body["choices"][0]["finish_reason"] == "tool_calls"


def test_json_answer_is_content_on_openai_and_the_forced_tool_on_anthropic() -> None:
    """json_answer sends the value as text, or as the forced tool's input on Anthropic."""
    provider = FakeProvider(script=json_answer({"status": "shipped"}))
    content = completions(provider).json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"status": "shipped"}
    text = messages(provider).json()["content"]
    assert json.loads(text[0]["text"]) == {"status": "shipped"}
    forced = messages(
        provider,
        tools=[ANTHROPIC_TOOL],
        tool_choice={"type": "tool", "name": "lookup_order"},
    ).json()
    assert [(b["type"], b["name"], b["input"]) for b in forced["content"]] == [
        ("tool_use", "lookup_order", {"status": "shipped"})
    ]
    assert forced["stop_reason"] == "tool_use"


def test_without_a_script_a_schema_gets_a_value_built_from_it() -> None:
    """No script: a schema asked for is answered with schema_example(schema)."""
    provider = FakeProvider()
    fmt = {"type": "json_schema", "json_schema": {"name": "order", "schema": SCHEMA}}
    content = completions(provider, response_format=fmt).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == schema_example(SCHEMA) == {"order_id": ""}
    forced = messages(
        provider,
        tools=[ANTHROPIC_TOOL],
        tool_choice={"type": "tool", "name": "lookup_order"},
    ).json()
    assert forced["content"][0]["input"] == {"order_id": ""}
    required = completions(provider, tools=[OPENAI_TOOL], tool_choice="required").json()
    call = required["choices"][0]["message"]["tool_calls"][0]
    assert (call["function"]["name"], json.loads(call["function"]["arguments"])) == (
        "lookup_order",
        {"order_id": ""},
    )
    json_object = completions(
        provider,
        response_format={"type": "json_object"},
        messages=[{"role": "user", "content": "json please"}],
    )
    assert json_object.json()["choices"][0]["message"]["content"] == "{}"


EXAMPLES = [
    ("enum", {"type": "string", "enum": ["pending", "shipped"]}, "pending"),
    ("const", {"const": 3}, 3),
    ("default", {"type": "integer", "default": 7}, 7),
    ("minimum", {"type": "integer", "minimum": 5}, 5),
    ("exclusive", {"type": "number", "exclusiveMinimum": 0}, 1),
    ("format", {"type": "string", "format": "date-time"}, "2025-01-01T00:00:00Z"),
    ("min-length", {"type": "string", "minLength": 2}, "xx"),
    ("array", {"type": "array", "items": {"type": "boolean"}, "minItems": 2}, [False, False]),
    ("nullable", {"anyOf": [{"type": "string"}, {"type": "null"}]}, ""),
    ("type-list", {"type": ["null", "integer"]}, 0),
    ("nested", {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "number"}}}}}, {"a": {"b": 0}}),
    ("ref", {"$defs": {"S": {"enum": ["x"]}}, "type": "object", "properties": {"s": {"$ref": "#/$defs/S"}}}, {"s": "x"}),
    ("all-of", {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}]}, {"a": ""}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "expected"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES]
)
def test_schema_example_follows_the_schema(
    schema: dict[str, Any], expected: Any
) -> None:
    """schema_example picks enums, consts, defaults, bounds and formats, and recurses."""
    assert schema_example(schema) == expected


def test_reply_function_still_works_and_a_script_takes_precedence() -> None:
    """reply(body) still answers; a script, when given, is used instead."""
    provider = FakeProvider(reply=lambda body: f"model {body['model']}")
    assert messages(provider).json()["content"][0]["text"] == "model claude-x"
    provider.script = FakeReply(text="scripted")
    assert messages(provider).json()["content"][0]["text"] == "scripted"
    provider.reset()
    assert provider.script is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"cache_read_tokens": -1}, ValueError),
        ({"stop_reason": "stop"}, ValueError),
        ({"tool_calls": [{"name": "x"}]}, TypeError),
    ],
    ids=["negative-cache", "openai-stop-reason", "dict-tool-call"],
)
def test_fake_reply_refuses_malformed_fields(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """FakeReply checks its counts, its stop reason and its tool calls."""
    with pytest.raises(error):
        FakeReply(**kwargs)


def test_scripts_round_trip_through_their_json_spec() -> None:
    """tool_loop, json_answer and FakeReply become a spec and back, unchanged."""
    reply = FakeReply(text="t", tool_calls=[FakeToolCall("x", {"a": 1}, "id1")], thinking="hm",
                      json=None, cache_read_tokens=3, stop_reason="refusal")  # fmt: skip
    for script in (LOOP, json_answer([1, 2])):
        spec = script_to_spec(script)
        assert script_from_spec(spec) == script
        assert json.loads(json.dumps(spec)) == spec
    assert FakeReply.from_dict(reply.to_dict()) == reply
    assert script_to_spec(reply) == {"reply": reply.to_dict()}


@pytest.mark.parametrize(
    "spec",
    [
        {"tool_loop": {}},
        {"tool_loop": {"tool": "t", "inputs": {}}},
        {"echo": 1},
        {"json_answer": 1, "reply": {}},
        {"reply": {"txt": "x"}},
    ],
    ids=["no-tool", "unknown-field", "unknown-kind", "two-kinds", "reply-field"],
)
def test_malformed_specs_are_refused(spec: dict[str, Any]) -> None:
    """A spec that names no known script, or has unknown fields, is a ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by spec
        script_from_spec(spec)


def test_a_python_function_cannot_become_a_spec() -> None:
    """script_to_spec refuses a plain function, which cannot cross a process boundary."""
    with pytest.raises(TypeError, match="process boundary"):
        script_to_spec(lambda chat: "x")
