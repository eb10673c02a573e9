"""
The official SDKs parse the fake's tool, JSON, thinking and streamed answers.

Each test runs in-process and against the loopback server, through the SDKs'
own typed parsers and stream accumulators.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from fake_helpers import ANTHROPIC_TOOL, KEY, OPENAI_TOOL, USER
from pydantic import BaseModel

from holysheep_client.testing import (
    FakeProvider,
    FakeReply,
    FakeServer,
    FakeToolCall,
    Script,
    tool_loop,
)

LOOP = tool_loop("lookup_order", {"order_id": "A1"}, "Your order is {result}.")
THINKING = FakeReply(
    thinking="The user wants the order status.",
    text="It shipped.",
    cache_read_tokens=40,
    cache_write_tokens=8,
)
THINK = {"type": "enabled", "budget_tokens": 1024}


class OrderStatus(BaseModel):
    """A structured answer, as a pydantic model the SDKs turn into a strict schema."""

    order_id: str
    status: str
    items: list[int]


@dataclass
class Target:
    """Where the SDKs point, and how to script the fake behind it."""

    origin: str
    url: str
    script: Callable[[Any], None]
    async_http: Callable[[], httpx2.AsyncClient | None]
    sync_http: Callable[[], httpx2.Client | None]

    def anthropic_async(self) -> anthropic.AsyncAnthropic:
        """An AsyncAnthropic client on the target."""
        return anthropic.AsyncAnthropic(
            api_key=KEY,
            base_url=self.origin,
            http_client=self.async_http(),
            max_retries=0,
        )

    def anthropic_sync(self) -> anthropic.Anthropic:
        """An Anthropic client on the target."""
        return anthropic.Anthropic(
            api_key=KEY,
            base_url=self.origin,
            http_client=self.sync_http(),
            max_retries=0,
        )

    def openai_async(self) -> openai.AsyncOpenAI:
        """An AsyncOpenAI client on the target."""
        return openai.AsyncOpenAI(
            api_key=KEY, base_url=self.url, http_client=self.async_http(), max_retries=0
        )

    def openai_sync(self) -> openai.OpenAI:
        """An OpenAI client on the target."""
        return openai.OpenAI(
            api_key=KEY, base_url=self.url, http_client=self.sync_http(), max_retries=0
        )


@pytest.fixture(params=["in-process", "loopback"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The fake, through the in-process transports or on the loopback server."""
    if request.param == "in-process":
        provider = FakeProvider()

        def script(value: Script | None) -> None:
            provider.script = value

        yield Target(
            provider.origin,
            provider.url,
            script,
            lambda: httpx2.AsyncClient(transport=provider.async_transport()),
            lambda: httpx2.Client(transport=provider.sync_transport()),
        )
        return
    server: FakeServer = request.getfixturevalue("server")
    yield Target(
        server.origin,
        server.url,
        lambda value: server.configure(script=value),
        lambda: None,
        lambda: None,
    )


@pytest.mark.anyio
async def test_anthropic_async_tool_loop_and_streamed_tool_input(
    target: Target,
) -> None:
    """AsyncAnthropic gets ToolUseBlocks, streams input_json_delta into the final message."""
    target.script(LOOP)
    async with target.anthropic_async() as client:
        first = await client.messages.create(
            model="m", max_tokens=100, messages=USER, tools=[ANTHROPIC_TOOL]
        )
        [call] = first.content
        assert isinstance(call, anthropic.types.ToolUseBlock)
        assert (call.name, call.input, first.stop_reason) == (
            "lookup_order",
            {"order_id": "A1"},
            "tool_use",
        )
        history = [
            *USER,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "content": "shipped",
                    }
                ],
            },
        ]
        final = await client.messages.create(
            model="m", max_tokens=100, messages=history, tools=[ANTHROPIC_TOOL]
        )
        async with client.messages.stream(
            model="m", max_tokens=100, messages=USER, tools=[ANTHROPIC_TOOL]
        ) as stream:
            partial = [e.partial_json async for e in stream if e.type == "input_json"]
            streamed = await stream.get_final_message()
    assert (
        final.content[0].type == "text"
        and final.content[0].text == "Your order is shipped."
    )
    assert "".join(partial) == '{"order_id": "A1"}'
    [block] = streamed.content
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert (block.input, streamed.stop_reason) == ({"order_id": "A1"}, "tool_use")


def test_anthropic_sync_thinking_cache_usage_and_forced_tool(target: Target) -> None:
    """Anthropic parses thinking (streamed with its signature), cache usage and a forced tool."""
    target.script(THINKING)
    with target.anthropic_sync() as client:
        message = client.messages.create(
            model="m", max_tokens=2000, thinking=THINK, messages=USER
        )
        with client.messages.stream(
            model="m", max_tokens=2000, thinking=THINK, messages=USER
        ) as stream:
            kinds = {e.type for e in stream}
            streamed = stream.get_final_message()
        history = [*USER, {"role": "assistant", "content": message.content}, *USER]
        again = client.messages.create(
            model="m", max_tokens=2000, thinking=THINK, messages=history
        )
        target.script(None)
        forced = client.messages.create(
            model="m", max_tokens=100, messages=USER, tools=[ANTHROPIC_TOOL],
            tool_choice={"type": "tool", "name": "lookup_order"},
        )  # fmt: skip
    for m in (message, streamed):
        thinking, text = m.content
        assert isinstance(thinking, anthropic.types.ThinkingBlock)
        assert (
            thinking.thinking == "The user wants the order status."
            and thinking.signature
        )
        assert text.type == "text" and text.text == "It shipped."
        assert (
            m.usage.cache_read_input_tokens,
            m.usage.cache_creation_input_tokens,
        ) == (40, 8)
    assert {"thinking", "signature", "text"} <= kinds
    assert again.content[-1].type == "text"
    [tool] = forced.content
    assert isinstance(tool, anthropic.types.ToolUseBlock) and tool.input == {
        "order_id": ""
    }


@pytest.mark.anyio
async def test_openai_async_tool_loop_and_stream_helper(target: Target) -> None:
    """AsyncOpenAI gets tool_calls, answers after the tool message, and rebuilds a streamed call."""
    target.script(LOOP)
    async with target.openai_async() as client:
        first = await client.chat.completions.create(
            model="g", messages=USER, tools=[OPENAI_TOOL]
        )
        message = first.choices[0].message
        [call] = message.tool_calls or []
        assert call.type == "function"
        assert (call.function.name, json.loads(call.function.arguments)) == (
            "lookup_order",
            {"order_id": "A1"},
        )
        history = [
            *USER,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "shipped"},
        ]
        final = await client.chat.completions.create(
            model="g", messages=history, tools=[OPENAI_TOOL]
        )
        async with client.chat.completions.stream(
            model="g", messages=USER, tools=[OPENAI_TOOL]
        ) as stream:
            done = [
                e
                async for e in stream
                if e.type == "tool_calls.function.arguments.done"
            ]
            completion = await stream.get_final_completion()
    assert first.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.content == "Your order is shipped."
    assert [(d.name, json.loads(d.arguments)) for d in done] == [
        ("lookup_order", {"order_id": "A1"})
    ]
    [rebuilt] = completion.choices[0].message.tool_calls or []
    assert rebuilt.type == "function" and json.loads(rebuilt.function.arguments) == {
        "order_id": "A1"
    }
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_sync_parse_structured_output_and_strict_tools(target: Target) -> None:
    """chat.completions.parse validates the JSON answer and strict tool arguments as pydantic models."""
    with target.openai_sync() as client:
        parsed = client.chat.completions.parse(
            model="g", messages=USER, response_format=OrderStatus
        )
        target.script(
            FakeReply(json={"order_id": "A1", "status": "shipped", "items": [1, 2]})
        )
        scripted = client.chat.completions.parse(
            model="g", messages=USER, response_format=OrderStatus
        )
        target.script(
            FakeReply(
                tool_calls=[
                    FakeToolCall(
                        "OrderStatus", {"order_id": "B2", "status": "lost", "items": []}
                    )
                ]
            )
        )
        with client.chat.completions.stream(
            model="g",
            messages=USER,
            tools=[openai.pydantic_function_tool(OrderStatus)],
        ) as stream:
            tooled = stream.get_final_completion()
    assert parsed.choices[0].message.parsed == OrderStatus(
        order_id="", status="", items=[]
    )
    assert scripted.choices[0].message.parsed == OrderStatus(
        order_id="A1", status="shipped", items=[1, 2]
    )
    [call] = tooled.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == OrderStatus(
        order_id="B2", status="lost", items=[]
    )


def test_openai_reasoning_content_and_usage_details_reach_the_sdk(
    target: Target,
) -> None:
    """reasoning_content, cached_tokens and reasoning_tokens are readable on the SDK's objects."""
    target.script(THINKING)
    with target.openai_sync() as client:
        completion = client.chat.completions.create(model="g", messages=USER)
        chunks = list(
            client.chat.completions.create(
                model="g",
                messages=USER,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    message = completion.choices[0].message
    assert (
        getattr(message, "reasoning_content", None)
        == "The user wants the order status."
    )
    usage = completion.usage
    assert (
        usage is not None
        and usage.prompt_tokens_details
        and usage.completion_tokens_details
    )
    assert (
        usage.prompt_tokens_details.cached_tokens,
        usage.completion_tokens_details.reasoning_tokens,
    ) == (40, 6)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert (
        "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
        == "The user wants the order status."
    )
    assert (
        chunks[-1].usage is not None
        and chunks[-1].usage.prompt_tokens == usage.prompt_tokens
    )
