"""
One conversation model: messages in either protocol's dialect (or our blocks, mixed
freely) normalised once into a `Conversation` of our blocks, checked on the way.

Bad input raises `BadRequestError` naming the place (``messages[2].content[0]``)
before anything is sent.
"""

from __future__ import annotations

import binascii
import json
import re
from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import BadRequestError
from .blocks import (
    IMAGE_TYPES,
    Block,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResult,
    ToolUseBlock,
)

__all__ = ["Conversation", "image_from_url", "normalize_messages"]

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.S)
_SYSTEM_ROLES = frozenset({"system", "developer"})


@dataclass(frozen=True, slots=True)
class Conversation:
    """
    A normalised conversation: system text blocks and alternating turns.

    Consecutive turns of one role are merged into one, and in a user turn the tool
    results come first (the order the Anthropic API requires).
    """

    system: tuple[TextBlock, ...]
    messages: tuple[Message, ...]

    def with_prefill(self, text: str) -> Conversation:
        """
        This conversation continued by an assistant turn holding ``text``.
        """
        return replace(
            self, messages=(*self.messages, Message("assistant", (TextBlock(text),)))
        )

    def blocks(self) -> list[Block]:
        """
        Every block of every turn (tool results' own content not included).
        """
        return [b for m in self.messages for b in m.content]

    def has_images(self) -> bool:
        """
        Whether an image appears anywhere, tool results included.
        """
        for b in self.blocks():
            if isinstance(b, ImageBlock):
                return True
            if isinstance(b, ToolResult) and not isinstance(b.content, str):  # noqa: SIM102
                if any(isinstance(x, ImageBlock) for x in b.content):
                    return True
        return False

    def has_tool_blocks(self) -> bool:
        """
        Whether the history holds tool calls or tool results.
        """
        return any(isinstance(b, ToolUseBlock | ToolResult) for b in self.blocks())

    def has_cache_control(self) -> bool:
        """
        Whether any system or message block carries a cache breakpoint.
        """
        if any(b.cache_control for b in self.system):
            return True
        return any(getattr(b, "cache_control", None) is not None for b in self.blocks())


def _bad(where: str, what: str) -> BadRequestError:
    return BadRequestError(f"{where}: {what}")


def image_from_url(url: object, where: str) -> ImageBlock:
    """
    An `ImageBlock` from an OpenAI ``image_url`` (a base64 data URL, or http(s)).

    Raises:
        BadRequestError: Neither.
    """
    if not isinstance(url, str):
        raise _bad(where, "expected a data: URL or an http(s) URL")
    m = _DATA_URL.match(url)
    if m is not None:
        return _checked_image(ImageBlock(m["type"], data=m["data"]), where)
    if url.startswith(("https://", "http://")):
        return ImageBlock(url=url)
    raise _bad(where, "expected a data: URL or an http(s) URL")


def _checked_image(image: ImageBlock, where: str) -> ImageBlock:
    if (image.data is None) == (image.url is None):
        raise _bad(where, "an image needs exactly one of data (base64) or url")
    if image.url is not None:
        if not image.url.startswith(("https://", "http://")):
            raise _bad(where, "the image url must be http(s)")
        return image
    if image.media_type not in IMAGE_TYPES:
        raise _bad(where, f"media_type must be one of {', '.join(sorted(IMAGE_TYPES))}")
    assert image.data is not None
    try:
        b64decode(image.data, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(where, "the image data is not valid base64") from None
    return image


def _anthropic_image(part: Mapping[str, Any], where: str) -> ImageBlock:
    source = part.get("source")
    if not isinstance(source, Mapping):
        raise _bad(where, "an image block needs a source")
    cache = part.get("cache_control")
    if source.get("type") == "base64":
        img = ImageBlock(
            str(source.get("media_type", "")),
            data=source.get("data") if isinstance(source.get("data"), str) else "",
            cache_control=cache,
        )
    elif source.get("type") == "url":
        img = ImageBlock(url=str(source.get("url", "")), cache_control=cache)
    else:
        raise _bad(where, "an image source must be base64 or url")
    return _checked_image(img, where)


def _text(part: Mapping[str, Any], where: str) -> TextBlock:
    text = part.get("text")
    if not isinstance(text, str):
        raise _bad(where, "a text block needs a string text")
    return TextBlock(text, cache_control=part.get("cache_control"))


def _result_content(
    content: object, where: str
) -> str | tuple[TextBlock | ImageBlock, ...]:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if not isinstance(content, Sequence):
        raise _bad(where, "tool result content must be a string or a list of blocks")
    out: list[TextBlock | ImageBlock] = []
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if isinstance(part, TextBlock | ImageBlock):
            out.append(
                part if isinstance(part, TextBlock) else _checked_image(part, here)
            )
        elif isinstance(part, Mapping) and part.get("type") == "text":
            out.append(_text(part, here))
        elif isinstance(part, Mapping) and part.get("type") == "image":
            out.append(_anthropic_image(part, here))
        elif isinstance(part, Mapping) and part.get("type") == "image_url":
            out.append(image_from_url(_url_of(part), here))
        else:
            raise _bad(here, "a tool result holds text or image blocks")
    return tuple(out)


def _url_of(part: Mapping[str, Any]) -> object:
    image_url = part.get("image_url")
    return image_url.get("url") if isinstance(image_url, Mapping) else image_url


def _tool_use(part: Mapping[str, Any], where: str) -> ToolUseBlock:
    tid, name, args = part.get("id"), part.get("name"), part.get("input", {})
    if not isinstance(tid, str) or not tid or not isinstance(name, str) or not name:
        raise _bad(where, "a tool_use block needs an id and a name")
    if not isinstance(args, Mapping):
        raise _bad(f"{where}.input", "expected an object")
    return ToolUseBlock(tid, name, dict(args))


def _part(part: object, role: str, where: str) -> Block:
    """One content part, in either dialect or ours."""
    if isinstance(part, TextBlock | ToolUseBlock | ThinkingBlock | ToolResult):
        return part
    if isinstance(part, ImageBlock):
        return _checked_image(part, where)
    if not isinstance(part, Mapping):
        raise _bad(where, "expected a content block")
    kind = part.get("type")
    if kind == "text":
        return _text(part, where)
    if kind == "image_url" and role == "user":
        return image_from_url(_url_of(part), f"{where}.image_url.url")
    if kind == "image" and role == "user":
        return _anthropic_image(part, where)
    if kind == "tool_result" and role == "user":
        tid = part.get("tool_use_id")
        if not isinstance(tid, str) or not tid:
            raise _bad(where, "a tool_result needs a tool_use_id")
        return ToolResult(
            tid,
            _result_content(part.get("content"), f"{where}.content"),
            bool(part.get("is_error", False)),
            cache_control=part.get("cache_control"),
        )
    if kind == "tool_use" and role == "assistant":
        return _tool_use(part, where)
    if kind == "thinking" and role == "assistant":
        return ThinkingBlock(str(part.get("thinking", "")), part.get("signature"))
    if kind == "redacted_thinking" and role == "assistant":
        return ThinkingBlock("", None, redacted=str(part.get("data", "")))
    raise _bad(where, f"a {kind!r} block is not supported in a {role} message")


def _content(content: object, role: str, where: str) -> list[Block]:
    if isinstance(content, str):
        return [TextBlock(content)] if content else []
    if content is None:
        return []
    if isinstance(content, Sequence):
        return [_part(p, role, f"{where}[{j}]") for j, p in enumerate(content)]
    raise _bad(where, "expected a string or a list of content blocks")


def _openai_tool_calls(calls: object, where: str) -> list[Block]:
    if not isinstance(calls, Sequence):
        raise _bad(where, "expected a list of tool calls")
    out: list[Block] = []
    for j, call in enumerate(calls):
        here = f"{where}[{j}]"
        fn = call.get("function") if isinstance(call, Mapping) else None
        tid = call.get("id") if isinstance(call, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(tid, str) or not tid:
            raise _bad(here, "a tool call needs an id and a function")
        name, raw = fn.get("name"), fn.get("arguments", "{}")
        if not isinstance(name, str) or not name:
            raise _bad(f"{here}.function.name", "expected a tool name")
        try:
            args = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise _bad(f"{here}.function.arguments", "is not valid JSON") from None
        if not isinstance(args, Mapping):
            raise _bad(f"{here}.function.arguments", "expected a JSON object")
        out.append(ToolUseBlock(tid, name, dict(args)))
    return out


def _message(m: object, i: int, system: list[TextBlock]) -> Message | None:
    where = f"messages[{i}]"
    if isinstance(m, Message):
        return m
    if isinstance(m, ToolResult):
        return Message("user", (m,))
    if not isinstance(m, Mapping):
        raise _bad(where, "expected a mapping with a role, or a block")
    role = m.get("role")
    if role in _SYSTEM_ROLES:
        parts = _content(m.get("content"), "user", f"{where}.content")
        if not all(isinstance(b, TextBlock) for b in parts):
            raise _bad(f"{where}.content", "a system message holds text only")
        system.extend(b for b in parts if isinstance(b, TextBlock))
        return None
    if role == "tool":
        tid = m.get("tool_call_id")
        if not isinstance(tid, str) or not tid:
            raise _bad(f"{where}.tool_call_id", "expected the id of the tool call")
        content = _result_content(m.get("content"), f"{where}.content")
        return Message(
            "user", (ToolResult(tid, content, bool(m.get("is_error", False))),)
        )
    if role == "user":
        return Message(
            "user", tuple(_content(m.get("content"), "user", f"{where}.content"))
        )
    if role == "assistant":
        blocks: list[Block] = []
        reasoning = m.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            blocks.append(ThinkingBlock(reasoning))
        blocks += _content(m.get("content"), "assistant", f"{where}.content")
        refusal = m.get("refusal")
        if isinstance(refusal, str) and refusal and not blocks:
            blocks.append(TextBlock(refusal))
        if m.get("tool_calls"):
            blocks += _openai_tool_calls(m["tool_calls"], f"{where}.tool_calls")
        return Message("assistant", tuple(blocks))
    raise _bad(
        f"{where}.role", "expected 'system', 'developer', 'user', 'assistant' or 'tool'"
    )


def _merged(turns: list[Message]) -> list[Message]:
    out: list[Message] = []
    for turn in turns:
        if out and out[-1].role == turn.role:
            out[-1] = Message(turn.role, out[-1].content + turn.content)
        else:
            out.append(turn)
    for i, turn in enumerate(out):
        if turn.role == "user" and turn.tool_results():
            results = tuple(b for b in turn.content if isinstance(b, ToolResult))
            rest = tuple(b for b in turn.content if not isinstance(b, ToolResult))
            out[i] = Message("user", results + rest)
    return out


def _check_pairs(turns: list[Message]) -> None:
    """Every tool result answers a call of the turn before; every call is answered."""
    for i, turn in enumerate(turns):
        results = turn.tool_results()
        before = turns[i - 1] if i else None
        calls = {u.id for u in before.tool_uses()} if before is not None else set()
        for r in results:
            if r.tool_use_id not in calls:
                raise _bad(
                    "messages",
                    f"a tool result answers {r.tool_use_id!r}, which is no tool call"
                    " of the assistant turn before it",
                )
        if turn.role == "assistant" and turn.tool_uses() and i + 1 < len(turns):
            answered = {r.tool_use_id for r in turns[i + 1].tool_results()}
            missing = [u.id for u in turn.tool_uses() if u.id not in answered]
            if missing:
                raise _bad(
                    "messages",
                    f"the tool call {missing[0]!r} has no tool result in the next turn",
                )


def normalize_messages(messages: object) -> Conversation:
    """
    Normalise and check chat messages in either dialect, or our blocks.

    Raises:
        BadRequestError: Naming the first bad message or block and what is wrong.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise BadRequestError("messages: expected a list of messages")
    if not messages:
        raise BadRequestError("messages: expected at least one message, found none")
    system: list[TextBlock] = []
    turns = _merged(
        [
            t
            for i, m in enumerate(messages)
            if (t := _message(m, i, system)) and t.content
        ]
    )
    if not turns:
        raise BadRequestError(
            "messages: expected a user message besides the system ones"
        )
    if turns[0].role != "user":
        raise BadRequestError(
            "messages: the first turn after the system must be the user's"
        )
    _check_pairs(turns)
    return Conversation(tuple(system), tuple(turns))
