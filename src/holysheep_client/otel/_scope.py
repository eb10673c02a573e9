"""
A call's span as the client's `CallScope`: attached while the call's attempts run,
so their spans nest under it; ended once, with the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from .._content.blocks import (
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolResult,
    ToolUseBlock,
)

if TYPE_CHECKING:
    from .._models import ChatResponse

__all__ = ["CURRENT", "NO_CALL_SPAN", "CallSpan", "NoCallSpan", "message_attribute"]


class CallSpan:
    """
    One call's span and what its attempts need to know (implements `CallScope`).
    """

    __slots__ = (
        "_ctx",
        "capture",
        "failovers",
        "hedged",
        "hops",
        "primary",
        "reasons",
        "span",
    )

    def __init__(self, span: trace.Span, capture: bool) -> None:
        self.span = span
        self.capture = capture
        self._ctx = trace.set_span_in_context(span)
        self.primary: str | None = None
        self.failovers = 0
        self.hedged = False
        self.hops: dict[str, int] = {}
        self.reasons: dict[str, str] = {}

    def attach(self) -> object:
        return otel_context.attach(self._ctx), CURRENT.set(self)

    def detach(self, token: object) -> None:
        assert isinstance(token, tuple)
        CURRENT.reset(token[1])
        otel_context.detach(token[0])

    def end(self, error: BaseException | None, response: ChatResponse | None) -> None:
        span = self.span
        if error is not None and not isinstance(error, GeneratorExit):
            name = type(error).__name__
            span.set_attribute("error.type", name)
            # The class name only: error messages are for people, not attributes.
            span.set_status(Status(StatusCode.ERROR, name))
        if self.capture and response is not None:
            parts = [p for b in response.content if (p := _part(b)) is not None]
            span.set_attribute(
                "gen_ai.output.messages",
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": parts
                            or [{"type": "text", "content": response.text}],
                            "finish_reason": response.stop_reason,
                        }
                    ],
                    default=str,
                ),
            )
        span.end()

    @property
    def context(self) -> otel_context.Context:
        return self._ctx


class NoCallSpan:
    """The scope of a call whose span does not record: nothing to do."""

    __slots__ = ()

    def attach(self) -> object:
        return None

    def detach(self, token: object) -> None:
        pass

    def end(self, error: BaseException | None, response: ChatResponse | None) -> None:
        pass


NO_CALL_SPAN: Final = NoCallSpan()
CURRENT: ContextVar[CallSpan | None] = ContextVar("holysheep_otel_call", default=None)


def _part(block: object) -> dict[str, Any] | None:
    """One of our blocks as a GenAI message part (semantic conventions' shapes)."""
    if isinstance(block, TextBlock):
        return {"type": "text", "content": block.text}
    if isinstance(block, ToolUseBlock):
        return {
            "type": "tool_call",
            "id": block.id,
            "name": block.name,
            "arguments": dict(block.input),
        }
    if isinstance(block, ToolResult):
        return {
            "type": "tool_call_response",
            "id": block.tool_use_id,
            "response": block.text(),
        }
    if isinstance(block, ThinkingBlock):
        return {"type": "reasoning", "content": block.thinking}
    if isinstance(block, ImageBlock):
        return (
            {"type": "uri", "uri": block.url}
            if block.url
            else {"type": "blob", "mime_type": block.media_type}
        )
    if isinstance(block, Mapping):
        if block.get("type") == "text":
            return {"type": "text", "content": str(block.get("text", ""))}
        return {"type": str(block.get("type", "unknown"))}
    return None


def message_attribute(message: object) -> dict[str, Any]:
    """
    One caller message (either dialect, or our blocks) as a GenAI input message.
    """
    if isinstance(message, ToolResult):
        return {"role": "tool", "parts": [_part(message)]}
    if not isinstance(message, Mapping):
        return {"role": "unknown", "parts": []}
    content = message.get("content")
    if isinstance(content, str):
        parts: list[Any] = [{"type": "text", "content": content}]
    elif isinstance(content, list):
        parts = [p for b in content if (p := _part(b)) is not None]
    else:
        parts = []
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {} if isinstance(call, Mapping) else {}
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": fn.get("name"),
                "arguments": fn.get("arguments"),
            }
        )
    return {"role": message.get("role"), "parts": parts}
