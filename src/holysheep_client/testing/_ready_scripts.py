"""
The ready-made scripts (`tool_loop`, `json_answer`, a fixed `FakeReply`) and the
JSON spec that carries them to `FakeServer`'s child process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._chat import FakeChat, FakeToolCall, FakeToolResult
from ._script import DEFAULT_REPLY, FakeReply, Script, SpecScript, default_answer

__all__ = ["json_answer", "script_from_spec", "script_to_spec", "tool_loop"]


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
    Under a forced choice of any tool it is the input of the tool it fits.

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
