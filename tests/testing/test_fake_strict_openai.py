"""
The strict fake on /v1/chat/completions: what the real API refuses, it refuses too.
"""

from __future__ import annotations

from typing import Any

import openai.types.chat.completion_create_params as params
import pytest
from fake_helpers import OPENAI_TOOL, PNG_B64, SCHEMA, USER, completions, error_of

from holysheep_client.testing import FakeProvider
from holysheep_client.testing._openai_validate import REQUEST_FIELDS

CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "lookup_order", "arguments": '{"order_id": "A1"}'},
}
ASKED = {"role": "assistant", "content": None, "tool_calls": [CALL]}
ANSWER = {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}
STRICT = {
    "type": "object",
    "properties": {"status": {"type": "string"}, "eta": {"type": "integer"}},
    "required": ["status", "eta"],
    "additionalProperties": False,
}


def user(*parts: Any) -> list[dict[str, Any]]:
    """A one-message conversation whose user turn holds ``parts``."""
    return [{"role": "user", "content": list(parts)}]


def image_url(url: str) -> dict[str, Any]:
    """An image_url content part."""
    return {"type": "image_url", "image_url": {"url": url}}


def schema_format(schema: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """A json_schema response_format."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "status", "schema": schema, "strict": strict},
    }


REFUSED = [
    ("anthropic-field", {"max_tokens": 5, "system": "be brief"}, "Unrecognized request argument supplied: system", None),
    ("thinking-field", {"thinking": {"type": "enabled"}}, "Unrecognized request argument supplied: thinking", None),
    ("role", {"messages": [{"role": "human", "content": "hi"}]}, "Invalid value: 'human'. Supported values are:", "messages[0].role"),
    ("message-extra", {"messages": [{"role": "user", "content": "hi", "cache_control": {}}]}, "Additional properties are not allowed ('cache_control' was unexpected) - 'messages.0'", "messages[0]"),
    ("anthropic-block", {"messages": user({"type": "tool_result", "tool_use_id": "x"})}, "Invalid value: 'tool_result'. Supported values are: 'text', 'image_url', 'input_audio', and 'file'.", "messages[0].content[0].type"),
    ("image-in-assistant", {"messages": [*USER, {"role": "assistant", "content": [image_url("https://x")]}]}, "Supported values are: 'text' and 'refusal'.", "messages[1].content[0].type"),
    ("image-in-system", {"messages": [{"role": "system", "content": [image_url("https://x")]}, *USER]}, "Invalid content type. image_url is only supported by certain models.", "messages.[0].content.[0].type"),
    ("orphan-tool", {"messages": [*USER, ANSWER]}, "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'", "messages.[1].role"),
    ("unknown-call-id", {"messages": [*USER, ASKED, {**ANSWER, "tool_call_id": "call_9"}]}, "'tool_call_id' of 'call_9' not found in 'tool_calls' of previous message", "messages.[2].tool_call_id"),
    ("unanswered", {"messages": [*USER, ASKED, *USER]}, "The following tool_call_ids did not have response messages: call_1", "messages.[2].role"),
    ("unanswered-at-end", {"messages": [*USER, ASKED]}, "did not have response messages: call_1", "messages.[1].role"),
    ("tool-without-id", {"messages": [*USER, ASKED, {"role": "tool", "content": "x"}]}, "Missing required parameter: 'messages[2].tool_call_id'.", "messages[2].tool_call_id"),
    ("arguments-object", {"messages": [*USER, {**ASKED, "tool_calls": [{**CALL, "function": {"name": "lookup_order", "arguments": {"order_id": "A1"}}}]}, ANSWER]}, "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object instead.", "messages[1].tool_calls[0].function.arguments"),
    ("call-id-too-long", {"messages": [*USER, {**ASKED, "tool_calls": [{**CALL, "id": "c" * 41}]}, {**ANSWER, "tool_call_id": "c" * 41}]}, "Invalid 'messages[1].tool_calls[0].id': string too long. Expected a string with maximum length 40, but got a string with length 41 instead.", "messages[1].tool_calls[0].id"),
    ("call-without-type", {"messages": [*USER, {**ASKED, "tool_calls": [{"id": "call_1", "function": CALL["function"]}]}, ANSWER]}, "Missing required parameter: 'messages[1].tool_calls[0].type'.", "messages[1].tool_calls[0].type"),
    ("assistant-null", {"messages": [*USER, {"role": "assistant", "content": None}, *USER]}, "Invalid value for 'content': expected a string, got null.", "messages.[1].content"),
    ("empty-parts", {"messages": [{"role": "user", "content": []}]}, "array too short", "messages[0].content"),
    ("image-raw-base64", {"messages": user(image_url(PNG_B64))}, "but got a value without the 'data:' prefix.", "messages[0].content[0].image_url.url"),
    ("image-not-image-mime", {"messages": user(image_url("data:text/plain;base64,aGk="))}, "unsupported MIME type 'text/plain'", "messages[0].content[0].image_url.url"),
    ("image-bad-base64", {"messages": user(image_url("data:image/png;base64,@@@"))}, "but got an invalid base64-encoded value.", "messages[0].content[0].image_url.url"),
    ("image-empty", {"messages": user(image_url("data:image/png;base64,"))}, "but got empty base64-encoded bytes.", "messages[0].content[0].image_url.url"),
    ("image-not-an-image", {"messages": user(image_url("data:image/png;base64,aGVsbG8="))}, "You uploaded an unsupported image.", None),
    ("image-string", {"messages": user({"type": "image_url", "image_url": "https://x"})}, "Invalid type for 'messages[0].content[0].image_url': expected an object, but got a string instead.", "messages[0].content[0].image_url"),
    ("tool-name", {"tools": [{"type": "function", "function": {"name": "orders.lookup"}}]}, "Invalid 'tools[0].function.name': string does not match pattern.", "tools[0].function.name"),
    ("tool-name-long", {"tools": [{"type": "function", "function": {"name": "x" * 65}}]}, "string too long. Expected a string with maximum length 64", "tools[0].function.name"),
    ("tool-params-type", {"tools": [{"type": "function", "function": {"name": "t", "parameters": {"type": "string"}}}]}, "Invalid schema for function 't': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"string\"'.", "tools[0].function.parameters"),
    ("anthropic-tool", {"tools": [{"name": "t", "input_schema": SCHEMA}]}, "Missing required parameter: 'tools[0].type'.", "tools[0].type"),
    ("tool-strict-open", {"tools": [{"type": "function", "function": {"name": "t", "parameters": SCHEMA, "strict": True}}]}, "Invalid schema for function 't': In context=(), 'additionalProperties' is required to be supplied and to be false.", "tools[0].function.parameters"),
    ("duplicate-tools", {"tools": [OPENAI_TOOL, OPENAI_TOOL]}, "tool names must be unique", "tools"),
    ("choice-any", {"tools": [OPENAI_TOOL], "tool_choice": "any"}, "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.", "tool_choice"),
    ("choice-unknown-tool", {"tools": [OPENAI_TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "no function named 'nope' was specified in the 'tools' parameter", "tool_choice"),
    ("choice-without-tools", {"tool_choice": "required"}, "'tool_choice' is only allowed when 'tools' are specified.", "tool_choice"),
    ("anthropic-choice", {"tools": [OPENAI_TOOL], "tool_choice": {"type": "tool", "name": "lookup_order"}}, "Invalid value: 'tool'.", "tool_choice.type"),
    ("parallel-without-tools", {"parallel_tool_calls": False}, "'parallel_tool_calls' is only allowed when 'tools' are specified.", "parallel_tool_calls"),
    ("format-type", {"response_format": {"type": "json"}}, "Invalid value: 'json'. Supported values are: 'text', 'json_object', and 'json_schema'.", "response_format.type"),
    ("format-no-name", {"response_format": {"type": "json_schema", "json_schema": {"schema": STRICT}}}, "Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name"),
    ("strict-open-object", {"response_format": schema_format({**STRICT, "additionalProperties": True})}, "Invalid schema for response_format 'status': In context=(), 'additionalProperties' is required to be supplied and to be false.", "response_format"),
    ("strict-not-required", {"response_format": schema_format({**STRICT, "required": ["status"]})}, "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'eta'.", "response_format"),
    ("strict-nested", {"response_format": schema_format({**STRICT, "properties": {"status": {"type": "object", "properties": {}}, "eta": {"type": "integer"}}})}, "In context=('properties', 'status'), 'additionalProperties' is required", "response_format"),
    ("json-object-without-json", {"response_format": {"type": "json_object"}}, "'messages' must contain the word 'json' in some form", "messages"),
    ("stop-too-many", {"stop": ["a", "b", "c", "d", "e"]}, "Invalid 'stop': array too long. Expected an array with maximum length 4", "stop"),
    ("top-p", {"top_p": 1.5}, "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.", "top_p"),
    ("user-int", {"user": 42}, "Invalid type for 'user': expected a string, but got an integer instead.", "user"),
    ("reasoning-effort", {"reasoning_effort": "extreme"}, "Invalid value: 'extreme'.", "reasoning_effort"),
    ("stream-options-no-stream", {"stream_options": {"include_usage": True}}, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "needle", "param"),
    [c[1:] for c in REFUSED],
    ids=[c[0] for c in REFUSED],
)
def test_refused_as_the_real_api_refuses(
    overrides: dict[str, Any], needle: str, param: str | None
) -> None:
    """Each malformed body gets a 400 in OpenAI's shape, its words and its param."""
    r = completions(FakeProvider(), **overrides)
    assert needle in error_of(r)
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


ACCEPTED = [
    ("tool-loop", {"tools": [OPENAI_TOOL], "messages": [*USER, ASKED, ANSWER]}),
    ("call-id-of-40", {"tools": [OPENAI_TOOL], "messages": [*USER, {**ASKED, "tool_calls": [{**CALL, "id": "c" * 40}]}, {**ANSWER, "tool_call_id": "c" * 40}]}),
    ("parallel-calls", {"tools": [OPENAI_TOOL], "parallel_tool_calls": True, "messages": [*USER, {**ASKED, "tool_calls": [CALL, {**CALL, "id": "call_2"}]}, ANSWER, {**ANSWER, "tool_call_id": "call_2"}, *USER]}),
    ("assistant-text-and-calls", {"tools": [OPENAI_TOOL], "messages": [*USER, {**ASKED, "content": "Let me check."}, ANSWER]}),
    ("images", {"messages": user({"type": "text", "text": "what?"}, image_url(f"data:image/png;base64,{PNG_B64}"), {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}})}),
    ("developer", {"messages": [{"role": "developer", "content": [{"type": "text", "text": "be brief"}]}, *USER]}),
    ("choices", {"tools": [OPENAI_TOOL], "tool_choice": {"type": "function", "function": {"name": "lookup_order"}}}),
    ("strict-schema", {"response_format": schema_format(STRICT)}),
    ("loose-schema", {"response_format": schema_format(SCHEMA, strict=False)}),
    ("strict-tool", {"tools": [{"type": "function", "function": {"name": "t", "parameters": STRICT, "strict": True}}]}),
    ("json-object", {"response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "Answer in JSON."}]}),
    ("options", {"stop": ["\n", "END"], "top_p": 0.9, "user": "tenant-42", "reasoning_effort": "low", "seed": 1, "max_completion_tokens": 50}),
    ("reasoning-sent-back", {"messages": [*USER, {"role": "assistant", "content": "ok", "reasoning_content": "hm"}, *USER]}),
]  # fmt: skip


@pytest.mark.parametrize(
    "overrides", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_valid_bodies_are_accepted(overrides: dict[str, Any]) -> None:
    """Bodies the real API takes (tools, images, strict schemas) get a 200."""
    r = completions(FakeProvider(), **overrides)
    assert r.status_code == 200, r.text


def test_every_body_field_the_sdk_sends_is_known() -> None:
    """Each field of the installed SDK's create params is accepted, none refused."""
    sdk_fields = set(params.CompletionCreateParamsBase.__annotations__) | {"stream"}
    assert sdk_fields <= REQUEST_FIELDS


def test_text_only_model_refuses_images_like_deepseek() -> None:
    """images=False answers an image_url part with DeepSeek's deserialisation 400."""
    provider = FakeProvider(images=False)
    body = user({"type": "text", "text": "what?"}, image_url("https://x/a.png"))
    r = completions(provider, messages=[{"role": "system", "content": "s"}, *body])
    assert error_of(r) == (
        "Failed to deserialize the JSON body into the target type:"
        " messages[1]: unknown variant `image_url`, expected `text`"
    )
    assert r.json()["error"]["code"] == "invalid_request_error"
    assert completions(provider).status_code == 200
