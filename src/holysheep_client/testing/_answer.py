"""
Turning a script's reply into the answer to send: parts, chunks, stop reason, usage.

Everything here is pure and protocol-neutral; `_anthropic_render` and
`_openai_render` only change its shape. One chunk is one output token and one
stream delta: text and thinking split into words (`chunk_text`), tool input
JSON into fragments that join back to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from ._chat import FakeChat, FakeTool, FakeToolCall
from ._plan import ChatRequest, chunk_text, signature_of
from ._schema import schema_example
from ._script import UNSET, FakeReply

__all__ = ["DEFAULT_THINKING", "Answer", "Part", "build_answer"]

#: The thinking an Anthropic answer begins with when the request enables thinking
#: and the script gave none (the real API's answers then always begin with one).
DEFAULT_THINKING = "Let me think this through."


@dataclass(slots=True)
class Part:
    """
    One block of the answer: thinking, text, or a tool call.

    ``chunks`` are the pieces sent (all of them, unless the answer was cut by
    ``max_tokens``: then ``complete`` is false).
    """

    kind: Literal["thinking", "text", "tool_use"]
    chunks: list[str]
    complete: bool = True
    name: str = ""
    call_id: str = ""
    signature: str = ""

    @property
    def text(self) -> str:
        """The joined chunks (a tool call's arguments JSON)."""
        return "".join(self.chunks)


@dataclass(slots=True)
class Answer:
    """The answer to one request, before it takes a protocol's shape."""

    parts: list[Part]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def output_tokens(self) -> int:
        """Every chunk sent counts as one output token."""
        return sum(len(p.chunks) for p in self.parts)

    @property
    def reasoning_tokens(self) -> int:
        """The output tokens spent on thinking."""
        return sum(len(p.chunks) for p in self.parts if p.kind == "thinking")


def _json_chunks(value: object) -> list[str]:
    # Spaced separators give word-sized fragments that join back to valid JSON.
    return chunk_text(json.dumps(value, ensure_ascii=False)) or ["{}"]


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, str | None]:
    hits = [(text.find(s), s) for s in stops if s and s in text]
    if not hits:
        return text, None
    at, seq = min(hits)
    return text[:at], seq


def build_answer(chat_request: ChatRequest, reply: str | FakeReply, seq: int) -> Answer:
    """
    The answer for ``reply``: prefill continued, stop sequences and max_tokens applied.

    Args:
        chat_request: The parsed request.
        reply: What the script (or the plain ``reply``) answered.
        seq: The request's sequence number (tool-call ids derive from it).
    """
    chat = chat_request.chat
    assert chat is not None
    fake = reply if isinstance(reply, FakeReply) else FakeReply(text=reply)
    parts: list[Part] = []
    thinking = fake.thinking
    if thinking is None and chat_request.thinking_on and _fresh_turn(chat):
        thinking = DEFAULT_THINKING
    if thinking is not None and (chat.protocol == "openai" or chat_request.thinking_on):
        parts.append(
            Part("thinking", chunk_text(thinking), signature=signature_of(thinking))
        )
    text = fake.text
    calls = list(fake.tool_calls)
    as_tool = _json_as_tool(chat, fake)
    if fake.json is not UNSET and not as_tool:
        text = json.dumps(fake.json, ensure_ascii=False)
    must = None if calls or as_tool else _must_call(chat, fake)
    if must is not None:
        # tool_choice forces a tool call: the real API answers with one, never text.
        text, calls = "", [must]
    if chat_request.prefill is not None and text.startswith(chat_request.prefill):
        text = text[len(chat_request.prefill) :]
    text, stop_sequence = _cut_at_stop(text, chat.stop)
    if text or (not calls and not as_tool):
        parts.append(Part("text", chunk_text(text)))
    if stop_sequence is None:
        prefix = "toolu_fake" if chat.protocol == "anthropic" else "call_fake"
        if as_tool:
            parts.append(
                _tool_part(str(chat.forced_tool), fake.json, f"{prefix}{seq:08d}_json")
            )
        for k, call in enumerate(calls):
            call_id = call.id or f"{prefix}{seq:08d}_{k}"
            parts.append(_tool_part(call.name, dict(call.input), call_id))
    truncated = _truncate(parts, chat_request.max_tokens)
    if truncated:
        stop = "max_tokens"
    elif stop_sequence is not None:
        stop = "stop_sequence"
    elif fake.stop_reason is not None:
        stop = fake.stop_reason
    else:
        stop = "tool_use" if any(p.kind == "tool_use" for p in parts) else "end_turn"
    return Answer(
        parts=parts,
        stop_reason=stop,
        stop_sequence=stop_sequence,
        input_tokens=chat_request.prompt_words,
        cache_read_tokens=fake.cache_read_tokens,
        cache_write_tokens=fake.cache_write_tokens,
    )


def _fresh_turn(chat: FakeChat) -> bool:
    """
    Whether the answer begins an assistant turn: the latest user message carries no
    tool results (Anthropic's models think at the start of a turn, not after a tool).
    """
    last = next((m for m in reversed(chat.messages) if m.role == "user"), None)
    return last is None or not last.tool_results


def _json_as_tool(chat: FakeChat, fake: FakeReply) -> bool:
    """Structured output on Anthropic is the ``tool_use`` of the forced tool."""
    return (
        fake.json is not UNSET
        and isinstance(fake.json, dict)
        and chat.protocol == "anthropic"
        and chat.forced_tool is not None
        and chat.schema_name == chat.forced_tool
    )


def _must_call(chat: FakeChat, fake: FakeReply) -> FakeToolCall | None:
    """
    The call a reply without one becomes when ``tool_choice`` forces a tool.

    ``tool`` (Anthropic) calls the named tool; ``any`` (OpenAI ``required``) calls
    the first offered tool whose schema a JSON reply fits (its keys among the
    properties, every required key there), else the first tool. The input is the
    JSON reply when it fits the tool, else an example of the tool's schema
    (`schema_example`). The answer without a script is built the same way.
    """
    if chat.tool_choice not in ("any", "tool") or not chat.tools:
        return None
    value = fake.json if isinstance(fake.json, dict) else None
    tool: FakeTool | None = None
    if chat.tool_choice == "tool":
        tool = chat.tool(chat.forced_tool or "")
    elif value is not None:
        tool = next((t for t in chat.tools if _fits(t, value)), None)
    tool = tool or chat.tools[0]
    if value is not None and _fits(tool, value):
        return FakeToolCall(tool.name, value)
    example = schema_example(tool.input_schema)
    return FakeToolCall(tool.name, example if isinstance(example, dict) else {})


def _fits(tool: FakeTool, value: dict[str, object]) -> bool:
    props = tool.input_schema.get("properties", {})
    required = tool.input_schema.get("required", [])
    return (
        isinstance(props, dict)
        and all(k in props for k in value)
        and all(k in value for k in required if isinstance(k, str))
    )


def _tool_part(name: str, value: object, call_id: str) -> Part:
    return Part("tool_use", _json_chunks(value), name=name, call_id=call_id)


def _truncate(parts: list[Part], max_tokens: int | None) -> bool:
    """Cut the parts to ``max_tokens`` chunks in order; whether anything was cut."""
    if max_tokens is None:
        return False
    budget = max_tokens
    for i, part in enumerate(parts):
        if len(part.chunks) <= budget:
            budget -= len(part.chunks)
            continue
        part.chunks = part.chunks[:budget]
        part.complete = False
        keep = i + 1 if part.chunks or part.kind == "text" else i
        del parts[keep:]
        return True
    return False
