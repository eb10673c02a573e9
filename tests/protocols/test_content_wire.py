"""
One conversation, both protocols: tools, images, structured output, reasoning and
caching encode for either wire format and decode back into the same blocks.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from holysheep_client import (
    APIError,
    BadRequestError,
    ImageBlock,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    Tool,
    ToolResult,
    ToolUseBlock,
    ToolUseDelta,
    ToolUseEnd,
    ToolUseStart,
)
from holysheep_client._client.spec import build_spec
from holysheep_client._content.request import ChatRequestSpec
from holysheep_client._content.schemas import OUTPUT_TOOL
from holysheep_client._protocols import ANTHROPIC, OPENAI

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
LOOKUP = Tool(
    "lookup_order",
    "Look an order up.",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)


class Sentiment(BaseModel):
    """A review's sentiment."""

    label: str
    score: float


def spec(messages: Any, **kw: Any) -> ChatRequestSpec:
    for name in ("temperature", "extra"):
        kw.setdefault(name, None)
    kw.setdefault("stream", False)
    return build_spec(messages, model="m", max_tokens=kw.pop("max_tokens", 2048), **kw)


def anthropic(s: ChatRequestSpec) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(ANTHROPIC.chat_body(s))
    return body


def openai(s: ChatRequestSpec) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(OPENAI.chat_body(s))
    return body


# An OpenAI-protocol tool loop, as an OpenAI SDK user writes it.
OPENAI_HISTORY: list[Any] = [
    {"role": "system", "content": "You help with orders."},
    {"role": "user", "content": "Where is order 42?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_abc123",
                "type": "function",
                "function": {"name": "lookup_order", "arguments": '{"order_id": "42"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_abc123", "content": "shipped"},
]


def test_an_openai_tool_loop_encodes_for_anthropic() -> None:
    """Tool calls become tool_use blocks with object input, results tool_result blocks, ids kept."""
    body = anthropic(spec(OPENAI_HISTORY, tools=[LOOKUP]))
    assert body["system"] == "You help with orders."
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "call_abc123",
                "name": "lookup_order",
                "input": {"order_id": "42"},
            }
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_abc123", "content": "shipped"}
        ],
    }
    assert body["tools"][0]["input_schema"]["required"] == ["order_id"]


def test_an_anthropic_tool_loop_encodes_for_openai(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """tool_use becomes tool_calls with JSON arguments; a signed thinking block is left out."""
    history: list[Any] = [
        {"role": "user", "content": "Where is order 42?"},
        {
            "role": "assistant",
            "content": [
                ThinkingBlock("I should look it up.", "sig-1"),
                ToolUseBlock("toolu_01", "lookup_order", {"order_id": "42"}),
            ],
        },
        ToolResult("toolu_01", "shipped"),
        {"role": "user", "content": "And when does it arrive?"},
    ]
    with caplog.at_level(logging.DEBUG, logger="holysheep_client"):
        body = openai(spec(history, tools=[LOOKUP]))
    assert body["messages"][1]["tool_calls"] == [
        {
            "id": "toolu_01",
            "type": "function",
            "function": {"name": "lookup_order", "arguments": '{"order_id":"42"}'},
        }
    ]
    assert "reasoning_content" not in body["messages"][1]
    assert body["messages"][2] == {
        "role": "tool",
        "tool_call_id": "toolu_01",
        "content": "shipped",
    }
    assert body["messages"][3] == {
        "role": "user",
        "content": "And when does it arrive?",
    }
    assert body["tools"][0]["function"]["parameters"] == dict(LOOKUP.input_schema)
    assert any("thinking" in r.getMessage() for r in caplog.records)


def test_thinking_goes_back_to_anthropic_only_with_its_signature() -> None:
    """Anthropic thinking is sent back signed; DeepSeek reasoning (no signature) is not."""
    history: list[Any] = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "reasoning_content": "deepseek thoughts", "content": "a"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": [ThinkingBlock("t", "sig"), TextBlock("b")]},
        {"role": "user", "content": "q3"},
    ]
    body = anthropic(spec(history))
    assert body["messages"][1] == {"role": "assistant", "content": "a"}
    assert body["messages"][3]["content"][0] == {
        "type": "thinking",
        "thinking": "t",
        "signature": "sig",
    }


@pytest.mark.parametrize(
    ("image", "anthropic_source", "openai_url"),
    [
        pytest.param(
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "base64", "media_type": "image/png", "data": PNG},
            f"data:image/png;base64,{PNG}",
            id="openai-data-url",
        ),
        pytest.param(
            {
                "type": "image",
                "source": {"type": "url", "url": "https://example.com/a.png"},
            },
            {"type": "url", "url": "https://example.com/a.png"},
            "https://example.com/a.png",
            id="anthropic-url",
        ),
        pytest.param(
            ImageBlock("image/png", data=PNG),
            {"type": "base64", "media_type": "image/png", "data": PNG},
            f"data:image/png;base64,{PNG}",
            id="ours",
        ),
    ],
)
def test_images_cross_in_either_dialect(
    image: Any, anthropic_source: dict[str, Any], openai_url: str
) -> None:
    """An image part of either dialect (or ours) encodes for both protocols."""
    s = spec(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "what is this?"}, image],
            }
        ]
    )
    assert anthropic(s)["messages"][0]["content"][1] == {
        "type": "image",
        "source": anthropic_source,
    }
    assert openai(s)["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": openai_url},
    }
    assert "images" in s.needs


def test_structured_output_is_json_schema_on_openai_and_a_forced_tool_on_anthropic() -> (
    None
):
    """A pydantic model becomes a strict json_schema for OpenAI and a forced tool for Anthropic."""
    s = spec([{"role": "user", "content": "Rate: great!"}], response_format=Sentiment)
    fmt = openai(s)["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == {
        "label",
        "score",
    }
    body = anthropic(s)
    assert body["tool_choice"] == {"type": "tool", "name": OUTPUT_TOOL}
    assert body["tools"][-1]["name"] == OUTPUT_TOOL
    assert body["tools"][-1]["input_schema"]["properties"].keys() == {"label", "score"}


def test_a_forced_tool_answer_reads_as_json_text() -> None:
    """On Anthropic the forced tool's input is the answer: JSON text, ending the turn."""
    s = spec([{"role": "user", "content": "Rate"}], response_format=Sentiment)
    answer = {
        "id": "msg",
        "model": "m",
        "content": [
            {
                "type": "tool_use",
                "id": "t",
                "name": OUTPUT_TOOL,
                "input": {"label": "pos", "score": 0.9},
            }
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    parsed = ANTHROPIC.parse_chat(
        json.dumps(answer).encode(), provider="p", request_id=None, output=s.output
    )
    assert json.loads(parsed.text) == {"label": "pos", "score": 0.9}
    assert parsed.stop_reason == "end_turn" and not [
        b for b in parsed.content if isinstance(b, ToolUseBlock)
    ]
    assert s.output is not None and s.output.parse(parsed.text) == Sentiment(
        label="pos", score=0.9
    )


def test_an_open_schema_is_sent_non_strict() -> None:
    """A schema that cannot be made strict (open objects) goes as strict: false."""
    schema = {
        "type": "object",
        "properties": {"x": {"type": "string"}},
        "additionalProperties": True,
    }
    fmt = openai(spec([{"role": "user", "content": "q"}], response_format=schema))[
        "response_format"
    ]
    assert (
        fmt["json_schema"]["strict"] is False and fmt["json_schema"]["schema"] == schema
    )


def test_cache_breakpoints_are_kept_for_anthropic() -> None:
    """cache_control on system, message and tool blocks reaches the Anthropic body."""
    eph = {"type": "ephemeral"}
    s = spec(
        [
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "long policy", "cache_control": eph}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "text", "text": "q", "cache_control": eph}],
            },
        ],
        tools=[Tool("t", "d", {"type": "object", "properties": {}}, cache_control=eph)],
    )
    body = anthropic(s)
    assert body["system"] == [
        {"type": "text", "text": "long policy", "cache_control": eph}
    ]
    assert body["messages"][0]["content"][0]["cache_control"] == eph
    assert body["tools"][0]["cache_control"] == eph
    assert "cache_control" not in json.dumps(openai(s))
    assert "cache_control" not in json.dumps(
        json.loads(ANTHROPIC.chat_body(s, cache=False))
    )


@pytest.mark.parametrize(
    ("choice", "anthropic_choice", "openai_choice"),
    [
        ("auto", {"type": "auto"}, "auto"),
        ("any", {"type": "any"}, "required"),
        ("required", {"type": "any"}, "required"),
        ("none", {"type": "none"}, "none"),
        (
            {"name": "lookup_order"},
            {"type": "tool", "name": "lookup_order"},
            {"type": "function", "function": {"name": "lookup_order"}},
        ),
        (
            {"type": "function", "function": {"name": "lookup_order"}},
            {"type": "tool", "name": "lookup_order"},
            {"type": "function", "function": {"name": "lookup_order"}},
        ),
    ],
    ids=["auto", "any", "required", "none", "named", "openai-named"],
)
def test_tool_choice_in_both_dialects(
    choice: Any, anthropic_choice: Any, openai_choice: Any
) -> None:
    """Every tool_choice form maps to each protocol's own."""
    s = spec([{"role": "user", "content": "q"}], tools=[LOOKUP], tool_choice=choice)
    assert anthropic(s)["tool_choice"] == anthropic_choice
    assert openai(s)["tool_choice"] == openai_choice


def test_options_translate() -> None:
    """stop, top_p, user and reasoning take each protocol's field names."""
    s = spec(
        [{"role": "user", "content": "q"}],
        stop=["END"],
        top_p=0.97,  # with thinking, the Anthropic API takes 0.95 to 1
        user="tenant-42",
        reasoning="low",
    )
    a, o = anthropic(s), openai(s)
    assert (a["stop_sequences"], a["top_p"], a["metadata"], a["thinking"]) == (
        ["END"], 0.97, {"user_id": "tenant-42"}, {"type": "enabled", "budget_tokens": 1024},
    )  # fmt: skip
    assert (o["stop"], o["top_p"], o["user"], o["reasoning_effort"]) == (
        ["END"],
        0.97,
        "tenant-42",
        "low",
    )


def test_a_reasoning_budget_the_anthropic_protocol_cannot_take_is_refused() -> None:
    """A thinking budget at or above max_tokens is refused before sending."""
    s = spec([{"role": "user", "content": "q"}], reasoning=4096, max_tokens=1000)
    with pytest.raises(BadRequestError, match="reasoning"):
        ANTHROPIC.chat_body(s)
    assert openai(s)["reasoning_effort"] == "medium"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param(
            {"tools": [{"name": "", "input_schema": {"type": "object"}}]},
            "tools[0].name",
            id="no-name",
        ),
        pytest.param(
            {"tools": [Tool("t", "d", {"type": "string"})]},
            "input_schema",
            id="bad-schema",
        ),
        pytest.param({"tools": [LOOKUP, LOOKUP]}, "duplicate", id="duplicate-tool"),
        pytest.param(
            {"tool_choice": {"name": "nope"}, "tools": [LOOKUP]},
            "tool_choice",
            id="unknown-choice",
        ),
        pytest.param(
            {"response_format": 42}, "response_format", id="format-not-schema"
        ),
        pytest.param(
            {"response_format": {"type": "array"}},
            "response_format",
            id="format-not-object",
        ),
        pytest.param({"stop": ["  "]}, "stop", id="blank-stop"),
        pytest.param({"reasoning": "max"}, "reasoning", id="bad-reasoning"),
        pytest.param({"top_p": 2}, "top_p", id="bad-top-p"),
    ],
)
def test_bad_options_are_refused_naming_the_field(
    kw: dict[str, Any], field: str
) -> None:
    """Bad tools, choices, formats and options raise BadRequestError naming the field."""
    with pytest.raises(
        BadRequestError, match=field.replace("[", r"\[").replace("]", r"\]")
    ):
        spec([{"role": "user", "content": "q"}], **kw)


@pytest.mark.parametrize(
    ("messages", "field"),
    [
        pytest.param(
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "!!not base64!!",
                            },
                        }
                    ],
                }
            ],
            "base64",
            id="image-not-base64",
        ),
        pytest.param(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}
                    ],
                }
            ],
            "image_url",
            id="image-not-url",
        ),
        pytest.param(
            [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a"},
                ToolResult("toolu_x", "r"),
            ],
            "no tool call",
            id="orphan-result",
        ),
        pytest.param(
            [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [ToolUseBlock("t1", "f", {})]},
                {"role": "user", "content": "no result"},
            ],
            "no tool result",
            id="unanswered-call",
        ),
        pytest.param(
            [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{oops"},
                        }
                    ],
                },
            ],
            "arguments",
            id="bad-arguments",
        ),
    ],
)
def test_bad_content_is_refused_before_sending(messages: list[Any], field: str) -> None:
    """Malformed images, orphan tool results and broken tool arguments raise BadRequestError."""
    with pytest.raises(BadRequestError, match=field):
        spec(messages)


def test_usage_counts_cached_tokens_on_both_protocols() -> None:
    """Anthropic's uncached input count is converted: input_tokens counts every input token."""
    a = ANTHROPIC.parse_chat(
        json.dumps(
            {
                "model": "m",
                "content": [{"type": "text", "text": "x"}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": 10,
                    "cache_read_input_tokens": 900,
                    "cache_creation_input_tokens": 90,
                    "output_tokens": 5,
                },
            }
        ).encode(),
        provider="p",
        request_id=None,
    ).usage
    assert (
        a.input_tokens,
        a.cache_read_input_tokens,
        a.cache_creation_input_tokens,
    ) == (1000, 900, 90)
    o = OPENAI.parse_chat(
        json.dumps(
            {
                "model": "m",
                "choices": [{"message": {"content": "x"}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": 1000,
                    "completion_tokens": 50,
                    "prompt_tokens_details": {"cached_tokens": 900},
                    "completion_tokens_details": {"reasoning_tokens": 30},
                },
            }
        ).encode(),
        provider="p",
        request_id=None,
    ).usage
    assert (o.input_tokens, o.cache_read_input_tokens, o.reasoning_tokens) == (
        1000,
        900,
        30,
    )


def test_malformed_tool_arguments_in_an_answer_are_a_provider_fault() -> None:
    """A completion whose tool arguments are not JSON is a typed APIError, not a JSONDecodeError."""
    body = {
        "model": "m",
        "choices": [
            {
                "message": {
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{oops"},
                        }
                    ]
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    with pytest.raises(APIError) as info:
        OPENAI.parse_chat(json.dumps(body).encode(), provider="p", request_id=None)
    assert info.value.status_code == 200


def _sse(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(
        f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events
    )


ANTHROPIC_TOOL_STREAM = _sse(
    [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "model": "m",
                    "usage": {"input_tokens": 3, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "hmm"},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "sig"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "text_delta", "text": "Let me look."},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "lookup_order",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '{"order_'},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": 'id": "42"}'},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 9},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
)


def test_anthropic_stream_gives_typed_events_and_the_blocks() -> None:
    """Thinking, text and a tool call stream as typed events; the decoder holds the blocks."""
    dec = ANTHROPIC.stream_decoder(provider="p")
    events = dec.feed(ANTHROPIC_TOOL_STREAM)
    call = ToolUseBlock("toolu_1", "lookup_order", {"order_id": "42"})
    assert events == [
        ThinkingDelta("hmm"),
        TextDelta("Let me look."),
        ToolUseStart(2, "toolu_1", "lookup_order"),
        ToolUseDelta(2, '{"order_'),
        ToolUseDelta(2, 'id": "42"}'),
        ToolUseEnd(2, call),
    ]
    assert dec.content == (ThinkingBlock("hmm", "sig"), TextBlock("Let me look."), call)
    assert (dec.stop_reason, dec.usage.output_tokens, dec.ended) == (
        "tool_use",
        9,
        True,
    )


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return (
        "data: "
        + json.dumps(
            {
                "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )
        + "\n\n"
    )


def test_openai_stream_gives_typed_events_and_the_blocks() -> None:
    """Reasoning, text and tool-call fragments stream as typed events; the call ends at finish."""
    raw = (
        _chunk({"reasoning_content": "think"})
        + _chunk({"content": "Looking"})
        + _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup_order", "arguments": ""},
                    }
                ]
            }
        )
        + _chunk(
            {"tool_calls": [{"index": 0, "function": {"arguments": '{"order_id":'}}]}
        )
        + _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "42"}'}}]})
        + _chunk({}, "tool_calls")
        + "data: [DONE]\n\n"
    ).encode()
    dec = OPENAI.stream_decoder(provider="p")
    events = dec.feed(raw)
    call = ToolUseBlock("call_1", "lookup_order", {"order_id": "42"})
    assert events == [
        ThinkingDelta("think"),
        TextDelta("Looking"),
        ToolUseStart(2, "call_1", "lookup_order"),
        ToolUseDelta(2, '{"order_id":'),
        ToolUseDelta(2, ' "42"}'),
        ToolUseEnd(2, call),
    ]
    assert dec.content == (ThinkingBlock("think"), TextBlock("Looking"), call)
    assert dec.stop_reason == "tool_use" and dec.ended


def test_structured_output_streams_as_text_on_anthropic() -> None:
    """The forced tool's JSON streams as text deltas, not as a tool call."""
    s = spec([{"role": "user", "content": "q"}], response_format=Sentiment, stream=True)
    raw = _sse(
        [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {
                        "type": "tool_use",
                        "id": "t",
                        "name": OUTPUT_TOOL,
                        "input": {},
                    },
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": '{"label": "pos",',
                    },
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": ' "score": 1}',
                    },
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use"},
                    "usage": {"output_tokens": 4},
                },
            ),
        ]
    )
    dec = ANTHROPIC.stream_decoder(provider="p", output=s.output)
    events = dec.feed(raw)
    assert all(isinstance(e, TextDelta) for e in events)
    assert json.loads("".join(e.text for e in events if isinstance(e, TextDelta))) == {
        "label": "pos",
        "score": 1,
    }
    assert dec.stop_reason == "end_turn"


def test_a_malformed_streamed_tool_input_is_a_break() -> None:
    """Tool input that does not parse when the call ends is a malformed event (a break)."""
    raw = _sse(
        [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {
                        "type": "tool_use",
                        "id": "t",
                        "name": "f",
                        "input": {},
                    },
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": "{oops"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ]
    )
    with pytest.raises(APIError, match="malformed"):
        ANTHROPIC.stream_decoder(provider="p").feed(raw)
