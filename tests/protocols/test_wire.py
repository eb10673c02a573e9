"""
Wire protocols: request bodies, answer parsing, typed errors, SSE decoding.
"""

from __future__ import annotations

import json

import pytest

from holysheep_client import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyError,
    ContextLengthError,
    RateLimitError,
    ServerError,
    TextDelta,
    ToolUseBlock,
)
from holysheep_client._client.spec import build_spec
from holysheep_client._content.normalize import normalize_messages
from holysheep_client._content.request import ChatRequestSpec
from holysheep_client._protocols import ANTHROPIC, OPENAI


def spec(messages: object, max_tokens: int = 10, **kw: object) -> ChatRequestSpec:
    """A checked request, as the client builds it."""
    kw.setdefault("temperature", None)
    kw.setdefault("stream", False)
    kw.setdefault("extra", None)
    return build_spec(messages, model="m", max_tokens=max_tokens, **kw)  # type: ignore[arg-type]


def texts(events: list[object]) -> str:
    """The text of a stream's events."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "system", "content": "be kind"},
    {"role": "user", "content": "hi"},
]


def test_anthropic_body_hoists_system_messages() -> None:
    """System messages become the Anthropic `system` field, joined, and leave `messages`."""
    body = json.loads(ANTHROPIC.chat_body(spec(MESSAGES, temperature=0.5, stream=True)))
    assert body["system"] == "be brief\n\nbe kind"
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert (
        body["stream"] is True
        and body["temperature"] == 0.5
        and body["max_tokens"] == 10
    )


def test_openai_body_keeps_system_and_asks_for_stream_usage() -> None:
    """OpenAI bodies keep system messages in place and request usage on streams."""
    body = json.loads(OPENAI.chat_body(spec(MESSAGES, stream=True)))
    assert [m["role"] for m in body["messages"]] == ["system", "system", "user"]
    assert body["stream_options"] == {"include_usage": True}
    assert "temperature" not in body


def test_headers_carry_the_key_the_protocol_way() -> None:
    """Anthropic sends x-api-key and anthropic-version; OpenAI sends a Bearer token."""
    assert ANTHROPIC.headers("k")["x-api-key"] == "k"
    assert "anthropic-version" in ANTHROPIC.headers("k")
    assert OPENAI.headers("k")["authorization"] == "Bearer k"


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param("hi", id="string"),
        pytest.param([], id="empty"),
        pytest.param([{"role": "robot", "content": "x"}], id="bad-role"),
        pytest.param([{"role": "user", "content": 3}], id="bad-content"),
        pytest.param([{"role": "system", "content": "x"}], id="system-only"),
    ],
)
def test_bad_messages_raise_bad_request(messages: object) -> None:
    """Malformed messages raise BadRequestError locally, naming the problem."""
    with pytest.raises(BadRequestError, match="messages"):
        normalize_messages(messages)


@pytest.mark.parametrize("proto", [ANTHROPIC, OPENAI], ids=["anthropic", "openai"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[]", id="wrong-type"),
        pytest.param(b'{"choices": [], "content": 5}', id="wrong-shape"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
    ],
)
def test_malformed_answers_raise_api_error(proto: object, body: bytes) -> None:
    """A malformed 200 body raises a typed APIError, never KeyError or JSONDecodeError."""
    with pytest.raises(APIError) as info:
        proto.parse_chat(body, provider="p", request_id=None)  # type: ignore[attr-defined]
    assert info.value.status_code == 200 and info.value.provider == "p"


def test_anthropic_answer_parses() -> None:
    """Text blocks are joined, tool calls kept as blocks; usage, stop reason and id too."""
    body = json.dumps(
        {
            "id": "msg_1",
            "model": "deepseek-v3.2",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}},
                {"type": "text", "text": "b"},
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 2},
        }
    ).encode()
    parsed = ANTHROPIC.parse_chat(body, provider="p", request_id=None)
    assert (parsed.text, parsed.model) == ("ab", "deepseek-v3.2")
    assert (parsed.usage.input_tokens, parsed.usage.output_tokens) == (3, 2)
    assert parsed.content[1] == ToolUseBlock("t1", "f", {"x": 1})
    assert parsed.request_id == "msg_1" and parsed.stop_reason == "end_turn"


def test_openai_answer_maps_usage_and_finish_reason() -> None:
    """prompt/completion tokens map to input/output; finish_reason length -> max_tokens."""
    body = json.dumps(
        {
            "id": "c1",
            "model": "gpt-4.1",
            "choices": [
                {
                    "message": {"role": "assistant", "content": "hey"},
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5},
        }
    ).encode()
    parsed = OPENAI.parse_chat(body, provider="p", request_id="rid")
    assert (
        parsed.text,
        parsed.usage.input_tokens,
        parsed.usage.output_tokens,
        parsed.stop_reason,
    ) == ("hey", 4, 1, "max_tokens")
    assert parsed.request_id == "rid"


@pytest.mark.parametrize(
    ("proto", "status", "body", "cls"),
    [
        pytest.param(
            ANTHROPIC,
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "prompt is too long: 250000 tokens > 200000 maximum",
                },
            },
            ContextLengthError,
            id="anthropic-context",
        ),
        pytest.param(
            OPENAI,
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            },
            ContextLengthError,
            id="openai-context",
        ),
        pytest.param(
            OPENAI,
            400,
            {
                "error": {
                    "message": "Your request was rejected by our safety system",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "content_policy_violation",
                }
            },
            ContentPolicyError,
            id="openai-policy",
        ),
        pytest.param(
            ANTHROPIC,
            401,
            {
                "type": "error",
                "error": {
                    "type": "authentication_error",
                    "message": "invalid x-api-key",
                },
            },
            AuthenticationError,
            id="anthropic-401",
        ),
        pytest.param(
            ANTHROPIC,
            529,
            {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
            },
            ServerError,
            id="anthropic-529",
        ),
        pytest.param(
            OPENAI,
            429,
            {"error": {"message": "slow down", "type": "rate_limit_error"}},
            RateLimitError,
            id="openai-429",
        ),
        pytest.param(
            OPENAI, 400, "plain text, not json", BadRequestError, id="text-body"
        ),
    ],
)
def test_error_bodies_become_typed_errors(
    proto: object, status: int, body: object, cls: type[APIError]
) -> None:
    """Each protocol's error bodies become the matching typed error with the reason kept."""
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    err = proto.parse_error(status, raw, provider="p", request_id="r", retry_after=2.0)  # type: ignore[attr-defined]
    assert type(err) is cls
    assert err.status_code == status and err.provider == "p" and err.request_id == "r"
    if isinstance(err, ContentPolicyError):
        assert err.reason and "safety" in err.reason
    if isinstance(err, RateLimitError):
        assert err.retry_after == 2.0


ANTHROPIC_SSE = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"deepseek-v3.2","usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
    b'event: ping\ndata: {"type":"ping"}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n'
    b": a comment\n"
    b'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}\r\n\r\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


@pytest.mark.parametrize("size", [1, 7, 64, 10_000], ids=lambda s: f"chunks-of-{s}")
def test_anthropic_stream_decodes_across_any_chunking(size: int) -> None:
    """Deltas, usage, stop reason and the end marker survive any chunk boundaries."""
    dec = ANTHROPIC.stream_decoder(provider="p")
    events = [
        e
        for i in range(0, len(ANTHROPIC_SSE), size)
        for e in dec.feed(ANTHROPIC_SSE[i : i + size])
    ]
    assert texts(events) == "Hello"
    assert (
        dec.model,
        dec.usage.input_tokens,
        dec.usage.output_tokens,
        dec.stop_reason,
        dec.ended,
    ) == ("deepseek-v3.2", 5, 2, "end_turn", True)


def test_openai_stream_decodes_usage_and_done() -> None:
    """OpenAI chunks give deltas, the finish reason, the usage chunk and [DONE]."""
    raw = (
        b'data: {"id":"c","model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
        b'data: {"id":"c","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        b'data: {"id":"c","model":"gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b'data: {"id":"c","model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
        b"data: [DONE]\n\n"
    )
    dec = OPENAI.stream_decoder(provider="p")
    assert dec.feed(raw) == [TextDelta("Hi")]
    assert (
        dec.stop_reason,
        dec.usage.input_tokens,
        dec.usage.output_tokens,
        dec.ended,
    ) == (
        "end_turn",
        3,
        1,
        True,
    )


@pytest.mark.parametrize(
    ("proto", "raw"),
    [
        pytest.param(
            ANTHROPIC,
            b"event: content_block_delta\ndata: {oops\n\n",
            id="anthropic-not-json",
        ),
        pytest.param(
            ANTHROPIC,
            b'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n',
            id="anthropic-missing-field",
        ),
        pytest.param(OPENAI, b"data: <html>\n\n", id="openai-not-json"),
        pytest.param(OPENAI, b'data: {"choices": 5}\n\n', id="openai-wrong-shape"),
    ],
)
def test_malformed_events_raise_a_provider_fault(proto: object, raw: bytes) -> None:
    """A malformed event is a typed 2xx provider fault (APIError), never a KeyError."""
    dec = proto.stream_decoder(provider="p")  # type: ignore[attr-defined]
    with pytest.raises(APIError, match="malformed") as info:
        dec.feed(raw)
    assert info.value.status_code == 200


def test_error_event_mid_stream_is_typed() -> None:
    """An Anthropic `error` event raises the typed error (overloaded -> ServerError)."""
    dec = ANTHROPIC.stream_decoder(provider="p")
    with pytest.raises(ServerError) as info:
        dec.feed(
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
        )
    assert info.value.status_code == 529
