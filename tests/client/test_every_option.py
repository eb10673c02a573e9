"""
With ``extra`` unused, no request the client builds is refused by the strict fake:
every request option, every message shape of either dialect and their combinations
(drawn by hypothesis) get a 200 on both protocols, or are refused before sending;
each body sent is valid for the official SDK's typed request params as well.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from client_helpers import config, fakes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from holysheep_client import (
    BadRequestError,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResult,
    ToolUseBlock,
)
from holysheep_client.testing import FakeProvider
from holysheep_client.testing._plan import signature_of
from shells import Shell

pytestmark = pytest.mark.anyio

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}
CACHE = {"type": "ephemeral"}
ASK = {"role": "user", "content": "Where is order 42? Answer in json."}


class Order(BaseModel):
    """An order's status."""

    order_id: str
    shipped: bool


def loop(call: Any, result: Any) -> list[Any]:
    return [ASK, call, result, {"role": "user", "content": "Thanks."}]


OPENAI_CALL = {
    "role": "assistant",
    "content": "Let me look.",
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "lookup_order", "arguments": '{"order_id":"42"}'},
        }
    ],
}
ANTHROPIC_CALL = {
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": "hm", "signature": signature_of("hm")},
        {"type": "tool_use", "id": "toolu_1", "name": "lookup_order", "input": {"order_id": "42"}},
    ],
}  # fmt: skip
OURS_CALL = {
    "role": "assistant",
    "content": [TextBlock("Looking."), ToolUseBlock("x.1", "lookup_order", {"order_id": "42"})],
}  # fmt: skip

#: Each dimension's values; a call takes at most one value of each.
OPTIONS: dict[str, dict[str, Any]] = {
    "tools": {
        "ours": [Tool("lookup_order", "Look an order up.", SCHEMA, cache_control=CACHE)],
        "openai": [{"type": "function", "function": {"name": "lookup_order", "description": "Look.", "parameters": SCHEMA}}],
        "anthropic": [{"name": "lookup_order", "description": "Look.", "input_schema": SCHEMA, "cache_control": CACHE}],
    },
    "tool_choice": {
        "auto": "auto", "any": "any", "none": "none", "required": "required",
        "named": {"name": "lookup_order"},
        "openai-named": {"type": "function", "function": {"name": "lookup_order"}},
    },
    "response_format": {"model": Order, "schema": SCHEMA, "json": "json"},
    "stop": {"one": "END", "two": ["END", "STOP"]},
    "top_p": {"high": 0.97, "low": 0.5},
    "temperature": {"low": 0.3},
    "user": {"tenant": "tenant-42"},
    "reasoning": {"low": "low", "medium": "medium", "high": "high", "budget": 2048},
    "messages": {
        "plain": [ASK],
        "developer": [{"role": "developer", "content": "Be brief."}, ASK],
        "system-cached": [{"role": "system", "content": [{"type": "text", "text": "Orders desk.", "cache_control": CACHE}]}, ASK],
        "message-cached": [{"role": "user", "content": [TextBlock("Where is order 42?", cache_control=CACHE)]}],
        "openai-image": [{"role": "user", "content": [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}],
        "anthropic-image": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}, {"type": "text", "text": "what?"}]}],
        "image-url": [{"role": "user", "content": [ImageBlock(url="https://example.com/a.png"), TextBlock("what?")]}],
        "openai-loop": loop(OPENAI_CALL, {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}),
        "anthropic-loop": loop(ANTHROPIC_CALL, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "lost", "is_error": True}]}),
        "ours-loop": loop(OURS_CALL, ToolResult("x.1", (TextBlock("shipped"), ImageBlock("image/png", data=PNG)))),
        "loop-in-progress": [ASK, OURS_CALL, ToolResult("x.1", "shipped", cache_control=CACHE)],
        "deepseek-reasoning": [ASK, {"role": "assistant", "reasoning_content": "thought", "content": "42 shipped."}, ASK],
        "ours-thinking": [ASK, {"role": "assistant", "content": [ThinkingBlock("hm", signature_of("hm")), TextBlock("ok")]}, ASK],
    },
}  # fmt: skip
NEEDS_TOOLS = ("openai-loop", "anthropic-loop", "ours-loop", "loop-in-progress")
SINGLE = [
    pytest.param(dim, key, id=f"{dim}-{key}")
    for dim, values in OPTIONS.items()
    for key in values
]


def call_of(choice: dict[str, str]) -> dict[str, Any]:
    """The keywords of ``chat()`` for one value per chosen dimension."""
    kw: dict[str, Any] = {"model": "m", "max_tokens": 20000}
    for dim, key in choice.items():
        kw[dim] = OPTIONS[dim][key]
    kw.setdefault("messages", [ASK])
    if "tools" not in kw and (
        "tool_choice" in choice or choice.get("messages") in NEEDS_TOOLS
    ):
        kw["tools"] = OPTIONS["tools"]["ours"]
    return kw


@functools.cache
def sdk_params(protocol: str, stream: bool) -> TypeAdapter[Any]:
    """The official SDK's typed request params, as a validator."""
    if protocol == "anthropic":
        from anthropic.types import message_create_params as a

        return TypeAdapter(
            a.MessageCreateParamsStreaming
            if stream
            else a.MessageCreateParamsNonStreaming
        )
    from openai.types.chat import completion_create_params as o

    return TypeAdapter(
        o.CompletionCreateParamsStreaming
        if stream
        else o.CompletionCreateParamsNonStreaming
    )


async def sent_and_answered(
    shell: Shell, protocol: str, kw: dict[str, Any], *, stream: bool = False
) -> list[int]:
    """
    The statuses the strict fake answered (none when refused before sending); each
    body sent is valid for the SDK's typed params too.
    """
    fp = fakes("a")
    fake: FakeProvider = fp["a"]
    async with shell.client(config((protocol, protocol)), fakes={protocol: fake}) as c:
        try:
            if stream:
                s = await c.stream(**kw)
                if s.error is not None:
                    raise s.error
            else:
                await c.chat(**kw)
        except BadRequestError as exc:
            if exc.status_code is not None:
                raise
            assert not fake.requests, "a local refusal sends nothing"
    for r in fake.requests:
        sdk_params(protocol, stream).validate_python(r.body)
    return [r.status for r in fake.requests]


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
@pytest.mark.parametrize(("dim", "key"), SINGLE)
async def test_each_option_is_taken_by_the_strict_fake(
    shell: Shell, protocol: str, dim: str, key: str
) -> None:
    """Each option and message shape alone is sent and answered 200."""
    assert await sent_and_answered(shell, protocol, call_of({dim: key})) == [200]


choices = st.fixed_dictionaries(
    {},
    optional={dim: st.sampled_from(sorted(values)) for dim, values in OPTIONS.items()},
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(choice=choices, stream=st.booleans())
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_no_combination_of_options_gets_a_400(
    shell: Shell, protocol: str, choice: dict[str, str], stream: bool
) -> None:
    """Options combined are answered 200, or refused before sending: never a 400."""
    statuses = await sent_and_answered(shell, protocol, call_of(choice), stream=stream)
    assert statuses in ([], [200]), (choice, statuses)
