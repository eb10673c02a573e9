"""
Anthropic ``messages`` as the real API checks them: roles, content blocks per role,
images, ``tool_use``/``tool_result`` pairing, thinking signatures, ``cache_control``.

Messages follow the API's own wording (pydantic-style paths such as
``messages.1.content.0.tool_use.id: ...``) where it is known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._anthropic_blocks import (
    CacheTally,
    check_cache_control,
    check_extra,
    document,
    fail,
    image_source,
    string_field,
    tag,
)
from ._chat import FakeMessage, FakeToolCall, FakeToolResult
from ._plan import WireError, count_words, signature_of

__all__ = ["ParsedMessages", "parse_messages", "parse_system"]

_TAGS = (
    "text",
    "image",
    "document",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "tool_result",
)
_ROLE_BLOCKS = {
    "user": ("text", "image", "document", "tool_result"),
    "assistant": ("text", "thinking", "redacted_thinking", "tool_use"),
}
_FIELDS: dict[str, frozenset[str]] = {
    "text": frozenset({"type", "text", "cache_control", "citations"}),
    "image": frozenset({"type", "source", "cache_control"}),
    "document": frozenset(
        {"type", "source", "cache_control", "citations", "context", "title"}
    ),
    "tool_use": frozenset(
        {"type", "id", "name", "input", "cache_control", "caller", "toolset_name"}
    ),
    "tool_result": frozenset(
        {"type", "tool_use_id", "content", "is_error", "cache_control", "toolset_name"}
    ),
    "thinking": frozenset({"type", "thinking", "signature"}),
    "redacted_thinking": frozenset({"type", "data"}),
}
_RESULT_TAGS = ("text", "image", "document")
_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_THINKING_FIRST = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found"
    " `{found}`. When `thinking` is enabled, a final `assistant` message must start with"
    " a thinking block (preceeding the lastmost set of `tool_use` and `tool_result`"
    " blocks). We recommend you include thinking blocks from previous turns. To avoid"
    " this requirement, disable `thinking`. Please consult our documentation at"
    " https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)


@dataclass(slots=True)
class _Turn:
    role: str
    texts: list[str] = field(default_factory=list)
    calls: list[FakeToolCall] = field(default_factory=list)
    results: list[tuple[int, str, str, bool]] = field(
        default_factory=list
    )  # j, id, text, err
    kinds: list[str] = field(default_factory=list)
    images: int = 0
    thinking: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedMessages:
    """The checked conversation: the neutral turns and what the fake counts."""

    messages: list[FakeMessage]
    words: int
    prefill: str | None
    first_image: int | None


def parse_system(system: Any, tally: CacheTally) -> str:
    """Check ``system`` (a string or text blocks) and return its text."""
    if system is None or isinstance(system, str):
        return system or ""
    if not isinstance(system, list):
        fail("system", "Input should be a valid string or list")
    texts = []
    for j, block in enumerate(system):
        path = f"system.{j}"
        tag(block, ("text",), path)
        check_extra(block, _FIELDS["text"], path)
        texts.append(string_field(block, "text", path))
        check_cache_control(block.get("cache_control"), f"{path}.cache_control", tally)
    return "".join(texts)


def _result_text(content: Any, path: str, tally: CacheTally, turn: _Turn) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        fail(path, "Input should be a valid string or list")
    texts = []
    for k, block in enumerate(content):
        sub = f"{path}.{k}"
        kind = tag(block, _RESULT_TAGS, sub)
        check_extra(block, _FIELDS[kind], f"{sub}.{kind}")
        check_cache_control(
            block.get("cache_control"), f"{sub}.{kind}.cache_control", tally
        )
        if kind == "text":
            texts.append(string_field(block, "text", f"{sub}.text"))
        elif kind == "image":
            image_source(block.get("source"), f"{sub}.image.source")
            turn.images += 1
        else:
            document(block, f"{sub}.document")
    return "".join(texts)


def _block(block: Any, i: int, j: int, turn: _Turn, tally: CacheTally) -> None:
    path = f"messages.{i}.content.{j}"
    kind = tag(block, _TAGS, path)
    tagged = f"{path}.{kind}"
    check_extra(block, _FIELDS[kind], tagged)
    if kind not in _ROLE_BLOCKS[turn.role]:
        fail(path, f"`{kind}` blocks are not allowed in `{turn.role}` messages")
    check_cache_control(block.get("cache_control"), f"{tagged}.cache_control", tally)
    turn.kinds.append(kind)
    if kind == "text":
        text = string_field(block, "text", tagged)
        if not text:
            fail("messages", "text content blocks must be non-empty")
        turn.texts.append(text)
    elif kind == "image":
        image_source(block.get("source"), f"{tagged}.source")
        turn.images += 1
    elif kind == "document":
        document(block, tagged)
    elif kind == "tool_use":
        call_id = string_field(block, "id", tagged)
        if not _ID.match(call_id):
            fail(f"{tagged}.id", "String should match pattern '^[a-zA-Z0-9_-]+$'")
        name = string_field(block, "name", tagged)
        if "input" not in block:
            fail(f"{tagged}.input", "Field required")
        if not isinstance(block["input"], dict):
            fail(f"{tagged}.input", "Input should be a valid dictionary")
        turn.calls.append(FakeToolCall(name, block["input"], call_id))
    elif kind == "tool_result":
        use_id = string_field(block, "tool_use_id", tagged)
        if not _ID.match(use_id):
            fail(
                f"{tagged}.tool_use_id",
                "String should match pattern '^[a-zA-Z0-9_-]+$'",
            )
        is_error = block.get("is_error", False)
        if not isinstance(is_error, bool):
            fail(f"{tagged}.is_error", "Input should be a valid boolean")
        text = _result_text(block.get("content"), f"{tagged}.content", tally, turn)
        turn.results.append((j, use_id, text, is_error))
    elif kind == "thinking":
        thinking = string_field(block, "thinking", tagged)
        signature = string_field(block, "signature", tagged)
        if signature != signature_of(thinking):
            fail(path, "Invalid `signature` in `thinking` block")
        turn.thinking.append(thinking)
    else:
        string_field(block, "data", tagged)


def _turns(messages: list[Any], tally: CacheTally) -> list[_Turn]:
    turns = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            fail(f"messages.{i}", "Input should be a valid dictionary")
        role = msg.get("role")
        if role == "system":
            raise WireError(
                400,
                'messages: Unexpected role "system". The Messages API accepts a '
                'top-level `system` parameter, not "system" as an input message role.',
            )
        if role not in ("user", "assistant"):
            fail(f"messages.{i}.role", "Input should be 'user' or 'assistant'")
        check_extra(msg, {"role", "content"}, f"messages.{i}")
        content = msg.get("content")
        if not isinstance(content, str | list):
            fail(f"messages.{i}.content", "Field required")
        turn = _Turn(str(role))
        if isinstance(content, str):
            turn.texts.append(content)
            turn.kinds.append("text")
        else:
            for j, block in enumerate(content):
                _block(block, i, j, turn, tally)
        empty = not turn.kinds or (not "".join(turn.texts) and turn.kinds == ["text"])
        if empty and not (i == len(messages) - 1 and role == "assistant"):
            fail(
                f"messages.{i}",
                "all messages must have non-empty content except for the optional"
                " final assistant message",
            )
        turns.append(turn)
    return turns


def _pair(turns: list[_Turn]) -> None:
    for i, turn in enumerate(turns):
        prev = turns[i - 1] if i else None
        offered = (
            {c.id for c in prev.calls} if prev and prev.role == "assistant" else set()
        )
        for j, use_id, _, _ in turn.results:
            if use_id not in offered:
                fail(
                    f"messages.{i}.content.{j}",
                    f"unexpected `tool_use_id` found in `tool_result` blocks: {use_id}."
                    " Each `tool_result` block must have a corresponding `tool_use` block"
                    " in the previous message.",
                )
        ids = [c.id for c in turn.calls]
        if len(set(ids)) != len(ids):
            fail(f"messages.{i}", "`tool_use` ids must be unique")
        if not ids:
            continue
        nxt = turns[i + 1] if i + 1 < len(turns) else None
        answered = {r[1] for r in nxt.results} if nxt else set()
        missing = [c for c in ids if c not in answered]
        if missing:
            fail(
                f"messages.{i}",
                "`tool_use` ids were found without `tool_result` blocks immediately"
                f" after: {', '.join(str(m) for m in missing)}. Each `tool_use` block"
                " must have a corresponding `tool_result` block in the next message.",
            )
        assert nxt is not None
        lead = nxt.kinds[: len(nxt.results)]
        if any(k != "tool_result" for k in lead):
            fail(
                f"messages.{i + 1}",
                f"Did not find {len(ids)} `tool_result` block(s) at the beginning of this"
                " message. Messages following `tool_use` blocks must begin with a"
                " matching number of `tool_result` blocks.",
            )


def _thinking_first(turns: list[_Turn]) -> None:
    """
    With thinking on, the assistant turn in progress leads with thinking.

    A turn runs from the latest user message that carries no tool results: a tool
    loop is one turn, and only its first assistant message must begin with a
    thinking block (the model does not think again after a tool result).
    """
    fresh = [k for k, t in enumerate(turns) if t.role == "user" and not t.results]
    opened = fresh[-1] if fresh else -1
    i = next(
        (k for k in range(opened + 1, len(turns)) if turns[k].role == "assistant"),
        None,
    )
    if i is None or not turns[i].kinds:
        return
    first = turns[i].kinds[0]
    if first not in ("thinking", "redacted_thinking"):
        raise WireError(400, _THINKING_FIRST.format(i=i, found=first))


def parse_messages(
    messages: Any, tally: CacheTally, *, thinking_on: bool
) -> ParsedMessages:
    """
    Check ``messages`` and build the neutral turns.

    Args:
        messages: The request's ``messages``.
        tally: The request's ``cache_control`` counter.
        thinking_on: Whether the request enables ``thinking``.

    Raises:
        WireError: The API's 400 for the first problem found.
    """
    if not isinstance(messages, list) or not messages:
        fail("messages", "Field required")
    turns = _turns(messages, tally)
    _pair(turns)
    if thinking_on:
        _thinking_first(turns)
    names: dict[str, str] = {}
    out: list[FakeMessage] = []
    words = 0
    first_image = None
    for i, turn in enumerate(turns):
        for call in turn.calls:
            names[str(call.id)] = call.name
        results = tuple(
            FakeToolResult(use_id, text, err, names.get(use_id))
            for _, use_id, text, err in turn.results
        )
        text = "".join(turn.texts)
        words += count_words(text) + sum(count_words(r.content) for r in results)
        if turn.images and first_image is None:
            first_image = i
        out.append(
            FakeMessage(
                role="user" if turn.role == "user" else "assistant",
                text=text,
                tool_calls=tuple(turn.calls),
                tool_results=results,
                images=turn.images,
                thinking="".join(turn.thinking) if turn.thinking else None,
            )
        )
    prefill = None
    last = turns[-1]
    if last.role == "assistant" and not last.calls:
        prefill = "".join(last.texts)
        if prefill != prefill.rstrip():
            fail(
                "messages",
                "final assistant content cannot end with trailing whitespace",
            )
    return ParsedMessages(out, words, prefill, first_image)
