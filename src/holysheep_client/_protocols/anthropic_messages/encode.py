"""
Our conversation as an Anthropic Messages request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..._content.blocks import (
    Block,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResult,
    ToolUseBlock,
)
from ..._content.encoded import RawJSON, dumps, schema_json
from ..._content.request import ChatRequestSpec
from ..._content.schemas import OUTPUT_TOOL
from ..._content.tools import wire_id
from ..._observe.log import logger
from ...errors import BadRequestError

__all__ = [
    "COUNT_FIELDS",
    "REASONING_BUDGETS",
    "chat_body",
    "count_body",
    "refusal",
    "sends_thinking",
]

#: Anthropic ``thinking.budget_tokens`` for each reasoning effort.
REASONING_BUDGETS: dict[str, int] = {"low": 1024, "medium": 4096, "high": 16384}


def _cached(
    out: dict[str, Any], cache: Mapping[str, Any] | None, keep: bool
) -> dict[str, Any]:
    if cache is not None and keep:
        out["cache_control"] = dict(cache)
    return out


def _image(b: ImageBlock, keep: bool) -> dict[str, Any]:
    if b.url is not None:
        source: dict[str, Any] = {"type": "url", "url": b.url}
    else:
        source = {"type": "base64", "media_type": b.media_type, "data": b.data}
    return _cached({"type": "image", "source": source}, b.cache_control, keep)


def _block(b: Block, keep: bool) -> dict[str, Any] | None:
    if isinstance(b, TextBlock):
        return _cached({"type": "text", "text": b.text}, b.cache_control, keep)
    if isinstance(b, ImageBlock):
        return _image(b, keep)
    if isinstance(b, ToolUseBlock):
        return {
            "type": "tool_use",
            "id": wire_id(b.id),
            "name": b.name,
            "input": dict(b.input),
        }
    if isinstance(b, ToolResult):
        content: Any = (
            b.content
            if isinstance(b.content, str)
            else [_block(x, keep) for x in b.content]
        )
        out: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": wire_id(b.tool_use_id),
            "content": content,
        }
        if b.is_error:
            out["is_error"] = True
        return _cached(out, b.cache_control, keep)
    if b.redacted is not None:
        return {"type": "redacted_thinking", "data": b.redacted}
    if b.signature:
        return {"type": "thinking", "thinking": b.thinking, "signature": b.signature}
    # Reasoning of the other protocol (DeepSeek's reasoning_content) has no signature:
    # the Anthropic API refuses such a block, and it adds nothing to the next turn.
    logger.debug(
        "leaving out a thinking block without signature (from another protocol)"
    )
    return None


def _message(m: Message, keep: bool) -> dict[str, Any]:
    content = [x for b in m.content if (x := _block(b, keep)) is not None]
    if (
        len(content) == 1
        and content[0]["type"] == "text"
        and "cache_control" not in content[0]
    ):
        return {"role": m.role, "content": content[0]["text"]}
    return {"role": m.role, "content": content}


def _tool(t: Tool, keep: bool) -> dict[str, Any]:
    out = {
        "name": t.name,
        "description": t.description,
        "input_schema": RawJSON(schema_json(t.input_schema)),
    }
    return _cached(out, t.cache_control, keep)


def _tools_and_choice(spec: ChatRequestSpec, body: dict[str, Any], keep: bool) -> None:
    tools = [_tool(t, keep) for t in spec.tools]
    choice = spec.tool_choice
    if spec.output is not None:
        # Structured output is a forced tool on this protocol.
        tools.append(
            {
                "name": OUTPUT_TOOL,
                "description": "Give the final answer as this tool's input.",
                "input_schema": RawJSON(schema_json(spec.output.schema)),
            }
        )
        if spec.tools and (choice is None or choice.kind in ("auto", "any")):
            body["tool_choice"] = {"type": "any"}
        else:
            body["tool_choice"] = {"type": "tool", "name": OUTPUT_TOOL}
    elif choice is not None:
        body["tool_choice"] = (
            {"type": "tool", "name": choice.name}
            if choice.kind == "tool"
            else {"type": choice.kind}
        )
    if tools:
        body["tools"] = tools


def _budget(spec: ChatRequestSpec) -> int:
    r = spec.reasoning
    return REASONING_BUDGETS[r] if isinstance(r, str) else int(r or 0)


def _limits(spec: ChatRequestSpec) -> str | None:
    """The first value this protocol's API refuses, named, or ``None``."""
    if spec.temperature is not None and spec.temperature > 1:
        return f"temperature: the Anthropic protocol takes 0 to 1; found {spec.temperature:g}"
    if spec.reasoning is None:
        return None
    budget = _budget(spec)
    if budget < 1024 or budget >= spec.max_tokens:
        return (
            f"reasoning: the Anthropic protocol needs a budget of at least 1024 tokens"
            f" and below max_tokens ({spec.max_tokens}); found {budget}"
        )
    if spec.temperature is not None:
        return "temperature: the Anthropic protocol takes none together with reasoning"
    if spec.top_p is not None and spec.top_p < 0.95:
        return (
            "top_p: the Anthropic protocol takes 0.95 to 1 together with reasoning;"
            f" found {spec.top_p:g}"
        )
    return None


#: The fields ``POST /messages/count_tokens`` takes of a chat body.
COUNT_FIELDS: Final = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config"}
)


def _opens_signed(turn: Message) -> bool:
    """Whether ``turn``, as encoded, begins with a thinking block the API takes back."""
    for b in turn.content:
        if not isinstance(b, ThinkingBlock):
            return False
        if b.signature or b.redacted is not None:
            return True
    return False  # unsigned thinking (another protocol's) is left out: look on


def sends_thinking(spec: ChatRequestSpec) -> bool:
    """
    Whether the body of ``spec`` enables ``thinking``.

    With thinking on, the API needs a tool loop in progress to have begun with a
    signed thinking block: its turn runs from the latest user message without tool
    results, and the turn's first assistant message must open with one. A turn
    answered on another protocol has none, so thinking stays off until the loop
    ends; the model would not think again before then anyway (it thinks at the
    start of a turn, not after a tool result).
    """
    if spec.reasoning is None:
        return False
    turns = spec.conversation.messages
    if not turns[-1].tool_results():
        return True
    fresh = [
        k for k, m in enumerate(turns) if m.role == "user" and not m.tool_results()
    ]
    opening = turns[fresh[-1] + 1] if fresh else None
    return opening is None or _opens_signed(opening)


def refusal(spec: ChatRequestSpec) -> str | None:
    """
    Why the Anthropic protocol cannot take ``spec`` at all, or ``None``.

    The API refuses thinking together with a forced tool (structured output is one
    here), a temperature above 1, and with thinking a temperature, a ``top_p``
    below 0.95 or a budget out of range. Such a call is routed to providers of
    another protocol, or refused before sending when there is none.
    """
    choice = spec.tool_choice
    forced = spec.output is not None or (
        choice is not None and choice.kind in ("any", "tool")
    )
    if forced and sends_thinking(spec):
        return (
            "reasoning: the Anthropic protocol takes none together with a forced tool"
            " (response_format, or tool_choice 'any' or a named tool)"
        )
    return _limits(spec)


def chat_body(spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
    """
    The JSON body of ``POST /messages`` for ``spec``.

    Args:
        spec: The request.
        cache: Keep ``cache_control`` breakpoints (the provider caches prompts).

    Raises:
        BadRequestError: A value the protocol refuses (see `refusal`).
    """
    return dumps(_body(spec, cache))


def count_body(spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
    """
    The JSON body of ``POST /messages/count_tokens``: the chat body's
    `COUNT_FIELDS` (no ``max_tokens``, sampling, ``stream`` or ``metadata``).
    """
    body = _body(spec, cache)
    counted = {k: v for k, v in body.items() if k in COUNT_FIELDS}
    return dumps(counted)


def _body(spec: ChatRequestSpec, cache: bool) -> dict[str, Any]:
    problem = refusal(spec)
    if problem is not None:
        raise BadRequestError(problem)
    conv = spec.conversation
    body: dict[str, Any] = {
        "model": spec.model,
        "max_tokens": spec.max_tokens,
        "messages": [_message(m, cache) for m in conv.messages],
    }
    if conv.system:
        if cache and any(b.cache_control for b in conv.system):
            body["system"] = [_block(b, cache) for b in conv.system]
        else:
            body["system"] = "\n\n".join(b.text for b in conv.system)
    if spec.temperature is not None:
        body["temperature"] = spec.temperature
    if spec.top_p is not None:
        body["top_p"] = spec.top_p
    if spec.stop:
        body["stop_sequences"] = list(spec.stop)
    if spec.user is not None:
        body["metadata"] = {"user_id": spec.user}
    if spec.reasoning is not None:
        if sends_thinking(spec):
            body["thinking"] = {"type": "enabled", "budget_tokens": _budget(spec)}
        else:
            logger.debug(
                "leaving thinking off: the tool loop's assistant turn has no signed"
                " thinking block (it was answered on another protocol)"
            )
    _tools_and_choice(spec, body, cache)
    if spec.stream:
        body["stream"] = True
    if spec.extra:
        body.update(spec.extra)
    return body
