"""
The strict fake on /v1/messages: what the real Messages API refuses, it refuses too.
"""

from __future__ import annotations

from typing import Any

import anthropic.types.message_create_params as params
import pytest
from fake_helpers import ANTHROPIC_TOOL, PNG_B64, SCHEMA, USER, error_of, messages

from holysheep_client.testing import FakeProvider, FakeReply
from holysheep_client.testing._anthropic_validate import REQUEST_FIELDS
from holysheep_client.testing._plan import signature_of

CALL = {
    "type": "tool_use",
    "id": "toolu_1",
    "name": "lookup_order",
    "input": {"order_id": "A1"},
}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "shipped"}
LOOP = [
    *USER,
    {"role": "assistant", "content": [CALL]},
    {"role": "user", "content": [RESULT]},
]
THINK = {"type": "enabled", "budget_tokens": 1024}
SIGNED = {"type": "thinking", "thinking": "hm", "signature": signature_of("hm")}
CALL_2 = {**CALL, "id": "toolu_2"}
RESULT_2 = {**RESULT, "tool_use_id": "toolu_2"}
# Two rounds of one tool loop: the model thinks once, at the start of the turn.
TWO_ROUNDS = [
    *USER,
    {"role": "assistant", "content": [SIGNED, CALL]},
    {"role": "user", "content": [RESULT]},
    {"role": "assistant", "content": [CALL_2]},
    {"role": "user", "content": [RESULT_2]},
]


def image(media_type: str = "image/png", data: str = PNG_B64) -> dict[str, Any]:
    """An image block with a base64 source."""
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": data},
    }


def user(*blocks: Any) -> list[dict[str, Any]]:
    """A one-message conversation whose user turn holds ``blocks``."""
    return [{"role": "user", "content": list(blocks)}]


def cached(n: int) -> list[dict[str, Any]]:
    """``n`` system text blocks, each with a cache_control breakpoint."""
    return [
        {"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}}
        for i in range(n)
    ]


REFUSED = [
    ("openai-field", {"response_format": {"type": "json_object"}}, "response_format: Extra inputs are not permitted"),
    ("user-field", {"user": "tenant-42"}, "user: Extra inputs are not permitted"),
    ("block-extra", {"messages": user({"type": "text", "text": "hi", "foo": 1})}, "messages.0.content.0.text.foo: Extra inputs are not permitted"),
    ("message-cache", {"messages": [{"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}]}, "messages.0.cache_control: Extra inputs are not permitted"),
    ("openai-part", {"messages": user({"type": "image_url", "image_url": {"url": "https://x"}})}, "Input tag 'image_url' found using 'type'"),
    ("tool-use-in-user", {"messages": user(CALL)}, "`tool_use` blocks are not allowed in `user` messages"),
    ("result-in-assistant", {"messages": [*USER, {"role": "assistant", "content": [RESULT]}]}, "`tool_result` blocks are not allowed in `assistant` messages"),
    ("orphan-result", {"messages": [*USER, {"role": "assistant", "content": "ok"}, {"role": "user", "content": [RESULT]}]}, "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1"),
    ("unanswered-call", {"messages": [*USER, {"role": "assistant", "content": [CALL]}, {"role": "user", "content": "and?"}]}, "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"),
    ("result-not-first", {"messages": [*USER, {"role": "assistant", "content": [CALL]}, user({"type": "text", "text": "here"}, RESULT)[0]]}, "Did not find 1 `tool_result` block(s) at the beginning"),
    ("call-id-pattern", {"messages": [*USER, {"role": "assistant", "content": [{**CALL, "id": "call.1"}]}]}, "messages.1.content.0.tool_use.id: String should match pattern"),
    ("call-input-string", {"messages": [*USER, {"role": "assistant", "content": [{**CALL, "input": '{"a": 1}'}]}]}, "tool_use.input: Input should be a valid dictionary"),
    ("tool-name", {"tools": [{**ANTHROPIC_TOOL, "name": "orders.lookup"}]}, "tools.0.custom.name: String should match pattern"),
    ("tool-schema-type", {"tools": [{**ANTHROPIC_TOOL, "input_schema": {"type": "string"}}]}, "tools.0.custom.input_schema.type: Input should be 'object'"),
    ("tool-schema-missing", {"tools": [{"name": "t"}]}, "tools.0.custom.input_schema: Field required"),
    ("tool-schema-anyof", {"tools": [{**ANTHROPIC_TOOL, "input_schema": {"anyOf": [SCHEMA]}}]}, "does not support oneOf, allOf, or anyOf at the top level"),
    ("openai-tool", {"tools": [{"type": "function", "function": {"name": "t"}}]}, "Input tag 'function' found using 'type'"),
    ("duplicate-tools", {"tools": [ANTHROPIC_TOOL, ANTHROPIC_TOOL]}, "tools: Tool names must be unique."),
    ("choice-string", {"tools": [ANTHROPIC_TOOL], "tool_choice": "auto"}, "tool_choice: Input should be a valid dictionary"),
    ("choice-required", {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "required"}}, "Input tag 'required' found using 'type'"),
    ("choice-unknown-tool", {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "tool", "name": "nope"}}, "Tool 'nope' not found in provided tools"),
    ("choice-without-tools", {"tool_choice": {"type": "any"}}, "tool_choice may only be specified while providing tools"),
    ("image-not-base64", {"messages": user(image(data="not base64!"))}, "image.source.base64.data: The image data is not valid base64."),
    ("image-media-type", {"messages": user(image(media_type="image/bmp"))}, "image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"),
    ("image-mismatch", {"messages": user(image(media_type="image/jpeg"))}, "Image does not match the provided media type image/jpeg"),
    ("image-not-an-image", {"messages": user(image(data="aGVsbG8="))}, "Could not process image"),
    ("image-url-scheme", {"messages": user({"type": "image", "source": {"type": "url", "url": "ftp://x/a.png"}})}, "Only HTTP and HTTPS URLs are supported"),
    ("stop-whitespace", {"stop_sequences": ["\n"]}, "stop_sequences: each stop sequence must contain non-whitespace"),
    ("stop-empty", {"stop_sequences": [""]}, "stop_sequences: each stop sequence must be non-empty"),
    ("metadata-extra", {"metadata": {"tenant": "a"}}, "metadata.tenant: Extra inputs are not permitted"),
    ("metadata-user-id", {"metadata": {"user_id": 42}}, "metadata.user_id: Input should be a valid string"),
    ("top-p", {"top_p": 1.5}, "top_p: Input should be less than or equal to 1"),
    ("thinking-budget", {"max_tokens": 4000, "thinking": {"type": "enabled", "budget_tokens": 512}}, "budget_tokens: Input should be greater than or equal to 1024"),
    ("thinking-max-tokens", {"max_tokens": 1024, "thinking": THINK}, "`max_tokens` must be greater than `thinking.budget_tokens`"),
    ("thinking-temperature", {"max_tokens": 2000, "thinking": THINK, "temperature": 0.2}, "`temperature` may only be set to 1 when thinking is enabled"),
    ("thinking-forced-tool", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "any"}}, "Thinking may not be enabled when tool_choice forces tool use."),
    ("thinking-loop-without-thinking", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "messages": LOOP}, "Expected `thinking` or `redacted_thinking`, but found `tool_use`"),
    ("thinking-loop-opened-without-thinking", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "messages": [*LOOP, {"role": "assistant", "content": [SIGNED, CALL_2]}, {"role": "user", "content": [RESULT_2]}]}, "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`"),
    ("thinking-bad-signature", {"messages": [*USER, {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "forged"}, {"type": "text", "text": "ok"}]}, *USER]}, "messages.1.content.0: Invalid `signature` in `thinking` block"),
    ("cache-five", {"system": cached(5)}, "A maximum of 4 blocks with cache_control may be provided. Found 5."),
    ("cache-type", {"system": [{"type": "text", "text": "s", "cache_control": {"type": "persistent"}}]}, "system.0.cache_control: Input tag 'persistent'"),
    ("cache-ttl", {"system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "10m"}}]}, "system.0.cache_control.ephemeral.ttl: Input should be '5m' or '1h'"),
    ("cache-on-thinking", {"messages": [*USER, {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": signature_of("hm"), "cache_control": {"type": "ephemeral"}}]}, *USER]}, "messages.1.content.0.thinking.cache_control: Extra inputs are not permitted"),
    ("empty-text", {"messages": user({"type": "text", "text": ""})}, "messages: text content blocks must be non-empty"),
    ("empty-turn", {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}, *USER]}, "messages.0: all messages must have non-empty content"),
    ("prefill-trailing-space", {"messages": [*USER, {"role": "assistant", "content": "Hello "}]}, "final assistant content cannot end with trailing whitespace"),
    ("output-format", {"output_config": {"format": {"type": "json_object"}}}, "output_config.format.type: Input should be 'json_schema'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "needle"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_refused_as_the_real_api_refuses(
    overrides: dict[str, Any], needle: str
) -> None:
    """Each malformed body gets an invalid_request_error 400 in the API's words."""
    r = messages(FakeProvider(), **overrides)
    assert needle in error_of(r)
    assert r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "invalid_request_error"


ACCEPTED = [
    ("tool-loop", {"tools": [{**ANTHROPIC_TOOL, "cache_control": {"type": "ephemeral", "ttl": "1h"}}], "messages": LOOP}),
    ("result-then-text", {"tools": [ANTHROPIC_TOOL], "messages": [*LOOP[:2], user(RESULT, {"type": "text", "text": "thanks"})[0]]}),
    ("result-blocks", {"messages": [*LOOP[:2], user({**RESULT, "is_error": True, "content": [{"type": "text", "text": "x"}, image()]})[0]]}),
    ("images", {"messages": user(image(), {"type": "image", "source": {"type": "url", "url": "https://x/a.png"}}, {"type": "text", "text": "what?"})}),
    ("pdf", {"messages": user({"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}, "title": "A"}, {"type": "text", "text": "sum up"})}),
    ("four-breakpoints", {"system": cached(3), "messages": user({"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}})}),
    ("top-level-cache", {"cache_control": {"type": "ephemeral"}}),
    ("options", {"metadata": {"user_id": "tenant-42"}, "stop_sequences": ["END"], "top_p": 0.9, "top_k": 5, "temperature": 0.5, "service_tier": "auto"}),
    ("choices", {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}),
    ("choice-none", {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "none"}}),
    ("thinking", {"max_tokens": 2000, "thinking": THINK, "temperature": 1}),
    ("thinking-loop", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "messages": [*USER, {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": signature_of("hm")}, CALL]}, LOOP[2]]}),
    ("thinking-loop-two-rounds", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "messages": TWO_ROUNDS}),
    ("thinking-new-turn", {"max_tokens": 2000, "thinking": THINK, "tools": [ANTHROPIC_TOOL], "messages": [*LOOP, {"role": "assistant", "content": "It shipped."}, *USER]}),
    ("adaptive", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}),
    ("output-format", {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}),
    ("redacted", {"messages": [*USER, {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "abc"}, {"type": "text", "text": "ok"}]}, *USER]}),
    ("max-tokens-zero", {"max_tokens": 0}),
]  # fmt: skip


@pytest.mark.parametrize(
    "overrides", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_valid_bodies_are_accepted(overrides: dict[str, Any]) -> None:
    """Bodies the real API takes (tools, images, thinking, caching) get a 200."""
    r = messages(FakeProvider(), **overrides)
    assert r.status_code == 200, r.text


def test_every_body_field_the_sdk_sends_is_known() -> None:
    """Each body field of the installed SDK's create params is accepted, none refused."""
    headers_only = {"user_profile_id", "workspace_id"}  # the SDK sends these as headers
    sdk_fields = set(params.MessageCreateParamsBase.__annotations__) - headers_only
    assert sdk_fields | {"stream"} <= REQUEST_FIELDS


def test_thinking_blocks_from_the_fake_are_accepted_back() -> None:
    """A thinking block the fake signed passes when sent back in the next turn."""
    provider = FakeProvider(script=FakeReply(thinking="Let me look.", text="Done."))
    first = messages(provider, max_tokens=2000, thinking=THINK).json()
    assert first["content"][0]["type"] == "thinking"
    history = [*USER, {"role": "assistant", "content": first["content"]}, *USER]
    assert (
        messages(
            provider, max_tokens=2000, thinking=THINK, messages=history
        ).status_code
        == 200
    )


def test_text_only_model_refuses_images_like_deepseek() -> None:
    """images=False answers an image with the deserialisation 400 of a text-only model."""
    provider = FakeProvider(images=False)
    body = user(image(), {"type": "text", "text": "what?"})
    message = error_of(
        messages(
            provider, messages=[*USER, {"role": "assistant", "content": "ok"}, *body]
        )
    )
    assert message.startswith(
        "Failed to deserialize the JSON body into the target type"
    )
    assert "messages[2].content: unknown variant `image`" in message
    assert messages(provider).status_code == 200
