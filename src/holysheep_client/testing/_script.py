"""
Scripting the fake's answers: `FakeReply`, the ready-made scripts and their JSON spec.

A script is a function of the request's `FakeChat` that returns the answer: a
string (plain text) or a `FakeReply` (text, tool calls, thinking, JSON, cache
usage, stop reason). The ready-made ones (`tool_loop`, `json_answer`) also know
their JSON spec, so `FakeServer` can send them to its child process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from ._chat import FakeChat, FakeToolCall, FakeToolResult
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
    "json_answer",
    "script_from_spec",
    "script_to_spec",
    "tool_loop",
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
    ``reasoning_content`` on the OpenAI protocol.

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
    The answer when no script is given: what the request forces, else ``text``.

    A forced tool (Anthropic ``tool_choice`` ``tool``/``any``, OpenAI
    ``required`` or a named function) is called with an input built from its
    schema; a schema asked for (or OpenAI's ``json_object``) gets a value built
    from it (see `schema_example`: first enum value, defaults, empty strings,
    zeros); otherwise the reply is ``text``.

    Args:
        chat: The request.
        text: The provider's plain reply text.
    """
    if chat.tool_choice in ("any", "tool") and chat.tools:
        tool = chat.tool(chat.forced_tool or "") or chat.tools[0]
        if chat.protocol == "anthropic" and chat.schema_name == tool.name:
            return FakeReply(json=schema_example(tool.input_schema))
        return FakeReply(
            tool_calls=[FakeToolCall(tool.name, _object(tool.input_schema))]
        )
    if chat.schema is not None:
        return FakeReply(json=schema_example(chat.schema))
    if chat.wants_json:
        return FakeReply(json={})
    return text


def _object(schema: Mapping[str, Any]) -> dict[str, Any]:
    value = schema_example(schema)
    return value if isinstance(value, dict) else {}


def _current_result(chat: FakeChat, name: str) -> FakeToolResult | None:
    """The result for ``name`` since the latest user turn that carried no results."""
    for message in reversed(chat.messages):
        if message.role != "user":
            continue
        if not message.tool_results:
            return None
        for result in reversed(message.tool_results):
            if result.name == name:
                return result
    return None


@dataclass(frozen=True, slots=True)
class _ToolLoop:
    tool: str
    input: Mapping[str, Any] = field(default_factory=dict)
    answer: str = "The tool said: {result}."

    def __call__(self, chat: FakeChat) -> str | FakeReply:
        result = _current_result(chat, self.tool)
        if result is not None:
            return FakeReply(text=self.answer.replace("{result}", result.content))
        if chat.tool(self.tool) is not None and chat.tool_choice != "none":
            return FakeReply(tool_calls=[FakeToolCall(self.tool, dict(self.input))])
        return default_answer(chat, DEFAULT_REPLY)

    def __repr__(self) -> str:
        return f"tool_loop({self.tool!r}, {dict(self.input)!r}, {self.answer!r})"

    def to_spec(self) -> dict[str, Any]:
        return {
            "tool_loop": {
                "tool": self.tool,
                "input": dict(self.input),
                "answer": self.answer,
            }
        }


@dataclass(frozen=True, slots=True)
class _JsonAnswer:
    value: Any

    def __call__(self, chat: FakeChat) -> FakeReply:
        return FakeReply(json=self.value)

    def __repr__(self) -> str:
        return f"json_answer({self.value!r})"

    def to_spec(self) -> dict[str, Any]:
        return {"json_answer": self.value}


def tool_loop(
    tool: str,
    input: Mapping[str, Any] | None = None,
    answer: str = "The tool said: {result}.",
) -> SpecScript:
    """
    A tool-using model: it calls ``tool``, then answers with the tool's result.

    When the latest user turn carries a result of ``tool``, the answer is
    ``answer`` with ``{result}`` replaced by the result's text. Otherwise, when
    ``tool`` is offered (and ``tool_choice`` is not ``none``), the model calls
    it with ``input``. Otherwise it answers as if there were no script.

    Args:
        tool: The name of the tool to call.
        input: The call's arguments.
        answer: The final answer; ``{result}`` stands for the result's text.

    Returns:
        The script; ``FakeServer.configure(script=...)`` accepts it too.

    Example:
        >>> script = tool_loop("lookup_order", {"order_id": "A1"}, "Your order is {result}.")
    """
    return _ToolLoop(tool, dict(input or {}), answer)


def json_answer(value: Any) -> SpecScript:
    """
    A model that answers every request with the JSON ``value``.

    On OpenAI it is the message content; on Anthropic the message text, or the
    ``tool_use`` input of the tool ``tool_choice`` forces (structured output).

    Args:
        value: Any JSON value.

    Returns:
        The script; ``FakeServer.configure(script=...)`` accepts it too.
    """
    json.dumps(value)  # fail early on what could never cross the wire
    return _JsonAnswer(value)


@dataclass(frozen=True, slots=True)
class _Fixed:
    reply: FakeReply

    def __call__(self, chat: FakeChat) -> FakeReply:
        return self.reply

    def to_spec(self) -> dict[str, Any]:
        return {"reply": self.reply.to_dict()}


def script_to_spec(script: Script | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """
    The JSON spec of a script (for `FakeServer`).

    Args:
        script: A ready-made script, a `FakeReply`, a spec mapping, or ``None``.

    Raises:
        TypeError: For a plain function, which cannot cross a process boundary.
    """
    if script is None:
        return None
    if isinstance(script, FakeReply):
        return {"reply": script.to_dict()}
    if isinstance(script, Mapping):
        script_from_spec(script)  # validate here, where the error is readable
        return dict(script)
    if isinstance(script, SpecScript):
        return script.to_spec()
    raise TypeError(
        "a FakeServer script must be tool_loop(...), json_answer(...), a FakeReply"
        " or a spec mapping; a Python function cannot cross the process boundary"
    )


def script_from_spec(spec: Mapping[str, Any] | None) -> SpecScript | None:
    """
    The script a JSON spec describes.

    Specs: ``{"tool_loop": {"tool": ..., "input": {...}, "answer": ...}}``,
    ``{"json_answer": VALUE}``, ``{"reply": {FakeReply fields}}``; ``None`` or
    ``{}`` for no script.

    Args:
        spec: The spec.

    Raises:
        ValueError: For an unknown or malformed spec.
    """
    if not spec:
        return None
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ValueError(
            "a script spec has exactly one key: tool_loop, json_answer or reply"
        )
    [(kind, arg)] = spec.items()
    if kind == "tool_loop":
        if not isinstance(arg, Mapping) or not isinstance(arg.get("tool"), str):
            raise ValueError(
                'tool_loop needs {"tool": NAME, "input": {...}, "answer": TEXT}'
            )
        unknown = sorted(set(arg) - {"tool", "input", "answer"})
        if unknown:
            raise ValueError(f"unknown tool_loop fields: {', '.join(unknown)}")
        return _ToolLoop(
            arg["tool"],
            dict(arg.get("input") or {}),
            str(arg.get("answer", "The tool said: {result}.")),
        )
    if kind == "json_answer":
        return _JsonAnswer(arg)
    if kind == "reply":
        if not isinstance(arg, Mapping):
            raise ValueError("reply needs a mapping of FakeReply fields")
        return _Fixed(FakeReply.from_dict(arg))
    raise ValueError(
        f"unknown script kind {kind!r}: use tool_loop, json_answer or reply"
    )
