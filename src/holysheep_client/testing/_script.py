"""
Scripting the fake's answers: `FakeReply`, the script types, the default answer.

A script is a function of the request's `FakeChat` that returns the answer: a
string (plain text) or a `FakeReply` (text, tool calls, thinking, JSON, cache
usage, stop reason). The ready-made ones live in `_ready_scripts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from ._chat import FakeChat, FakeToolCall
from ._schema import schema_example

__all__ = [
    "DEFAULT_REPLY",
    "UNSET",
    "FakeReply",
    "Script",
    "ScriptFn",
    "SpecScript",
    "StopReason",
    "default_answer",
]

DEFAULT_REPLY = "Hello from the fake provider."

#: The stop reasons a `FakeReply` may ask for (the client's shared vocabulary).
StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]
_STOP_REASONS: frozenset[str] = frozenset(get_args(StopReason))


class _Unset:
    """The type of `UNSET`: "no JSON answer", as distinct from a JSON ``null``."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: `FakeReply.json` when the answer carries no JSON value.
UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class FakeReply:
    """
    A scripted answer, rendered in the real shape of whichever protocol asked.

    Parts come in this order: thinking, text (or the JSON value), tool calls.
    ``json`` is sent as the message text (``json.dumps``), except when an
    Anthropic request forces a tool with ``tool_choice``: then it is that
    tool's ``tool_use`` input, as structured output on Anthropic works.
    ``thinking`` becomes an Anthropic ``thinking`` block (with a signature the
    fake accepts back) when the request enables ``thinking``, and DeepSeek-style
    ``reasoning_content`` on the OpenAI protocol. As the real API does, an
    Anthropic answer with ``thinking`` enabled begins a turn with a signed
    thinking block even when the script gave none (not after a tool result).

    Args:
        text: The answer text (continued after an assistant prefill).
        tool_calls: Tool calls, after the text.
        thinking: Reasoning text, before everything else.
        json: A JSON value to answer with (`UNSET`: none).
        cache_read_tokens: Input tokens reported as read from the prompt cache.
        cache_write_tokens: Input tokens reported as written to the cache.
        stop_reason: Overrides the stop reason (``None``: ``tool_use`` when
            there are tool calls, else ``end_turn``; a cut by ``max_tokens`` or
            a stop sequence always wins).

    Raises:
        ValueError: For negative token counts or an unknown stop reason.
    """

    text: str = ""
    tool_calls: Sequence[FakeToolCall] = ()
    thinking: str | None = None
    json: Any = UNSET
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    stop_reason: StopReason | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.cache_read_tokens < 0 or self.cache_write_tokens < 0:
            raise ValueError("cache token counts must be >= 0")
        if self.stop_reason is not None and self.stop_reason not in _STOP_REASONS:
            raise ValueError(
                f"stop_reason must be one of {sorted(_STOP_REASONS)}, got {self.stop_reason!r}"
            )
        for call in self.tool_calls:
            if not isinstance(call, FakeToolCall):
                raise TypeError(
                    f"tool_calls must be FakeToolCall objects, got {call!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """
        The reply as JSON-ready data (the admin API's ``{"reply": {...}}`` shape).
        """
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = self.text
        if self.tool_calls:
            out["tool_calls"] = [
                {
                    "name": c.name,
                    "input": dict(c.input),
                    **({"id": c.id} if c.id else {}),
                }
                for c in self.tool_calls
            ]
        if self.thinking is not None:
            out["thinking"] = self.thinking
        if self.json is not UNSET:
            out["json"] = self.json
        for name in ("cache_read_tokens", "cache_write_tokens"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.stop_reason is not None:
            out["stop_reason"] = self.stop_reason
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FakeReply:
        """
        Build a reply from `to_dict` output.

        Args:
            data: The mapping.

        Raises:
            ValueError: On an unknown field or a malformed tool call.
        """
        names = {
            "text", "tool_calls", "thinking", "json", "cache_read_tokens",
            "cache_write_tokens", "stop_reason",
        }  # fmt: skip
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown reply fields: {', '.join(unknown)}")
        kw = dict(data)
        calls = []
        for item in kw.pop("tool_calls", []):
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ValueError(f"a tool call needs a name, got {item!r}")
            calls.append(
                FakeToolCall(item["name"], dict(item.get("input", {})), item.get("id"))
            )
        return cls(tool_calls=calls, **kw)


#: What a script returns: plain text, or a `FakeReply`.
ScriptFn = Callable[[FakeChat], str | FakeReply]


@runtime_checkable
class SpecScript(Protocol):
    """
    A script that can also describe itself as JSON (for `FakeServer`).
    """

    def __call__(self, chat: FakeChat) -> str | FakeReply:
        """Answer ``chat``."""
        ...

    def to_spec(self) -> dict[str, Any]:
        """The JSON spec `script_from_spec` turns back into this script."""
        ...


#: What ``script=`` accepts: a function of the `FakeChat`, or one fixed `FakeReply`.
Script = ScriptFn | FakeReply


def default_answer(chat: FakeChat, text: str) -> str | FakeReply:
    """
    The answer when no script is given: what the request asks for, else ``text``.

    A schema asked for (or OpenAI's ``json_object``) gets a value built from it
    (see `schema_example`: first enum value, defaults, empty strings, zeros);
    otherwise the reply is ``text``. A forced tool (Anthropic ``tool_choice``
    ``tool``/``any``, OpenAI ``required`` or a named function) turns either into
    that tool's call when the answer is built, as it does a script's reply.

    Args:
        chat: The request.
        text: The provider's plain reply text.
    """
    if chat.schema is not None:
        return FakeReply(json=schema_example(chat.schema))
    if chat.wants_json:
        return FakeReply(json={})
    return text
