"""
Reading OpenAI chat-completions answers: the message, its usage, errors, model lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._content.blocks import Block, TextBlock, ThinkingBlock, ToolUseBlock
from ..._content.schemas import OutputFormat
from ..._models import Usage
from ...errors import APIError
from .._base import ParsedChat, json_body, not_an_answer, parse_models, token_count
from .._errors import build_error

__all__ = ["STOP", "parse_chat", "parse_error", "parse_models", "usage_of"]

#: finish_reason -> our stop-reason vocabulary.
STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def usage_of(usage: Mapping[str, Any]) -> Usage:
    """
    OpenAI usage in our terms (``prompt_tokens`` already counts the cached ones).

    DeepSeek's ``prompt_cache_hit_tokens`` is read when ``cached_tokens`` is absent.

    Raises:
        ValueError: A count is not a whole number.
    """
    prompt = usage.get("prompt_tokens_details") or {}
    done = usage.get("completion_tokens_details") or {}
    cached = prompt.get("cached_tokens") if isinstance(prompt, Mapping) else None
    if cached is None:
        cached = usage.get("prompt_cache_hit_tokens")
    reasoning = done.get("reasoning_tokens") if isinstance(done, Mapping) else None
    return Usage(
        input_tokens=token_count(usage.get("prompt_tokens")),
        output_tokens=token_count(usage.get("completion_tokens")),
        cache_read_input_tokens=token_count(cached),
        reasoning_tokens=token_count(reasoning),
    )


def stop_reason(raw: object) -> str | None:
    """
    A ``finish_reason`` in our vocabulary.
    """
    return None if raw is None else STOP.get(str(raw), str(raw))


def tool_arguments(raw: object, name: object) -> dict[str, Any]:
    """
    A tool call's JSON ``arguments`` as an object.

    Raises:
        ValueError: They are not a JSON object.
    """
    args = json.loads(raw) if isinstance(raw, str) else raw
    if args is None or args == "":
        return {}
    if not isinstance(args, Mapping):
        raise ValueError(f"tool {name!r} arguments are not a JSON object")
    return dict(args)


def _blocks(message: Mapping[str, Any]) -> tuple[Block, ...]:
    out: list[Block] = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        out.append(ThinkingBlock(reasoning))
    content = message.get("content")
    if content:
        out.append(TextBlock(str(content)))
    elif message.get("refusal"):
        out.append(TextBlock(str(message["refusal"])))
    for call in message.get("tool_calls") or ():
        fn = call["function"]
        out.append(
            ToolUseBlock(
                str(call["id"]),
                str(fn["name"]),
                tool_arguments(fn.get("arguments"), fn["name"]),
            )
        )
    return tuple(out)


def parse_chat(
    body: bytes,
    *,
    provider: str,
    request_id: str | None,
    output: OutputFormat | None = None,
) -> ParsedChat:
    """
    A 2xx chat completion.

    Raises:
        APIError: The body is not a chat completion (malformed tool-call JSON included).
    """
    obj = json_body(body, provider=provider)
    try:
        choice = obj["choices"][0]
        message = choice["message"]
        reason = stop_reason(choice.get("finish_reason"))
        if message.get("refusal") and not message.get("content"):
            reason = "refusal"
        return ParsedChat(
            content=_blocks(message),
            model=str(obj["model"]),
            usage=usage_of(obj.get("usage") or {}),
            stop_reason=reason,
            request_id=request_id or obj.get("id"),
        )
    except (
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        ValueError,
        RecursionError,
    ):
        raise not_an_answer(provider, request_id, "a chat completion") from None


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
    message, code, etype, decoded = "", None, None, None
    try:
        decoded = json.loads(body) if body else None
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
            err = decoded["error"]
            message = str(err.get("message", ""))
            code, etype = err.get("code"), err.get("type")
    except (ValueError, UnicodeDecodeError, RecursionError):
        decoded = body[:200].decode("utf-8", errors="replace")
    return build_error(
        status,
        message=message,
        code=code if isinstance(code, str) else None,
        etype=etype if isinstance(etype, str) else None,
        provider=provider,
        request_id=request_id,
        body=decoded,
        retry_after=retry_after,
    )
