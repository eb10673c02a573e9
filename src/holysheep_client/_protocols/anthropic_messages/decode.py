"""
Reading Anthropic Messages answers: the message, its usage, errors, model listings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._content.blocks import Block, TextBlock, ThinkingBlock, ToolUseBlock
from ..._content.schemas import OUTPUT_TOOL, OutputFormat
from ..._models import Usage
from ...errors import APIError
from .._base import ParsedChat, json_body, not_an_answer, parse_models, token_count
from .._errors import build_error

__all__ = [
    "STOP",
    "parse_chat",
    "parse_count",
    "parse_error",
    "parse_models",
    "usage_of",
]

#: Anthropic stop reasons in our vocabulary (``pause_turn`` ends a turn too).
STOP = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "refusal": "refusal",
    "pause_turn": "end_turn",
    "model_context_window_exceeded": "max_tokens",
}


def usage_of(usage: Mapping[str, Any]) -> Usage:
    """
    Anthropic usage in our terms: ``input_tokens`` counts the cached tokens too.

    Raises:
        ValueError: A count is not a whole number.
    """
    read = token_count(usage.get("cache_read_input_tokens"))
    write = token_count(usage.get("cache_creation_input_tokens"))
    return Usage(
        input_tokens=token_count(usage.get("input_tokens")) + read + write,
        output_tokens=token_count(usage.get("output_tokens")),
        cache_read_input_tokens=read,
        cache_creation_input_tokens=write,
    )


def stop_reason(
    raw: object, output: OutputFormat | None, content: tuple[Block, ...] = ()
) -> str | None:
    """
    The stop reason in our vocabulary: structured output's forced tool ends the
    turn, unless the answer (``content``) calls one of the caller's tools too.
    """
    if raw is None:
        return None
    reason = STOP.get(str(raw), str(raw))
    if output is not None and reason == "tool_use":
        calls = any(isinstance(b, ToolUseBlock) for b in content)
        return reason if calls else "end_turn"
    return reason


def _blocks(items: list[Any], output: OutputFormat | None) -> tuple[Block, ...]:
    out: list[Block] = []
    for b in items:
        kind = b["type"]
        if kind == "text":
            out.append(TextBlock(str(b["text"])))
        elif kind == "tool_use":
            args = b.get("input") or {}
            if not isinstance(args, Mapping):
                raise ValueError("tool input is not an object")
            if output is not None and b["name"] == OUTPUT_TOOL:
                out.append(TextBlock(json.dumps(args, ensure_ascii=False)))
            else:
                out.append(ToolUseBlock(str(b["id"]), str(b["name"]), dict(args)))
        elif kind == "thinking":
            out.append(ThinkingBlock(str(b.get("thinking", "")), b.get("signature")))
        elif kind == "redacted_thinking":
            out.append(ThinkingBlock("", None, redacted=str(b.get("data", ""))))
    return tuple(out)


def parse_chat(
    body: bytes,
    *,
    provider: str,
    request_id: str | None,
    output: OutputFormat | None = None,
) -> ParsedChat:
    """
    A 2xx Messages answer.

    Raises:
        APIError: The body is not a Messages response.
    """
    obj = json_body(body, provider=provider)
    try:
        content = _blocks(obj["content"], output)
        return ParsedChat(
            content=content,
            model=str(obj["model"]),
            usage=usage_of(obj.get("usage") or {}),
            stop_reason=stop_reason(obj.get("stop_reason"), output, content),
            request_id=request_id or obj.get("id"),
        )
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
        raise not_an_answer(provider, request_id, "a Messages response") from None


def parse_error(
    status: int,
    body: bytes,
    *,
    provider: str,
    request_id: str | None,
    retry_after: float | None,
) -> APIError:
    """
    The typed error of an error answer.
    """
    message, etype, decoded = "", None, None
    try:
        decoded = json.loads(body) if body else None
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
            message = str(decoded["error"].get("message", ""))
            etype = decoded["error"].get("type")
    except (ValueError, UnicodeDecodeError, RecursionError):
        decoded = body[:200].decode("utf-8", errors="replace")
    return build_error(
        status,
        message=message,
        code=None,
        etype=etype if isinstance(etype, str) else None,
        provider=provider,
        request_id=request_id,
        body=decoded,
        retry_after=retry_after,
    )


def parse_count(body: bytes, *, provider: str) -> int:
    """
    The ``input_tokens`` of a ``/messages/count_tokens`` answer.

    Raises:
        APIError: The body is not a token count.
    """
    obj = json_body(body, provider=provider)
    try:
        value = obj["input_tokens"] if isinstance(obj, dict) else None
        if value is None:
            raise ValueError("no input_tokens")
        return token_count(value)
    except (KeyError, ValueError):
        raise not_an_answer(provider, None, "a token count") from None
