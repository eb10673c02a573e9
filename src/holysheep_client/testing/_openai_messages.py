"""
OpenAI chat ``messages`` as the real API checks them: message shapes by role,
content parts, assistant ``tool_calls`` and the ``tool`` messages answering them.

Messages follow the API's own wording (``Invalid 'messages[1].tool_calls[0]...'``,
``param`` set) where it is known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ._chat import FakeMessage, FakeToolCall, FakeToolResult
from ._openai_parts import NAME_PATTERN, bad, content_of, extra, kind_of, supported
from ._plan import count_words

__all__ = ["ParsedConversation", "parse_messages"]

_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    # reasoning_content: DeepSeek-style providers (as this fake plays) take it back.
    "assistant": frozenset(
        {
            "role",
            "content",
            "name",
            "tool_calls",
            "function_call",
            "refusal",
            "audio",
            "reasoning_content",
        }
    ),  # fmt: skip
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}


#: The longest ``tool_calls[].id`` the API takes.
MAX_CALL_ID = 40


def _tool_calls(msg: Mapping[str, Any], i: int) -> list[FakeToolCall]:
    calls = msg.get("tool_calls")
    param = f"messages[{i}].tool_calls"
    if calls is None:
        return []
    if not isinstance(calls, list):
        bad(
            f"Invalid type for '{param}': expected an array, but got {kind_of(calls)} instead.",
            param,
            "invalid_type",
        )
    if not calls:
        bad(
            f"Invalid '{param}': empty array. Expected an array with minimum length 1, but"
            " got an empty array instead.",
            param,
            "empty_array",
        )
    out = []
    for k, call in enumerate(calls):
        path = f"{param}[{k}]"
        if not isinstance(call, Mapping):
            bad(
                f"Invalid type for '{path}': expected an object, but got {kind_of(call)} instead.",
                path,
            )
        for key in ("id", "type", "function"):
            if key not in call:
                bad(f"Missing required parameter: '{path}.{key}'.", f"{path}.{key}")
        extra(
            call,
            frozenset({"id", "type", "function"}),
            f"messages.{i}.tool_calls.{k}",
            path,
        )
        if call["type"] != "function":
            bad(
                f"Invalid value: '{call['type']}'. Supported values are: 'function'.",
                f"{path}.type",
            )
        fn = call["function"]
        if not isinstance(fn, Mapping):
            bad(
                f"Invalid type for '{path}.function': expected an object, but got {kind_of(fn)} instead.",
                f"{path}.function",
            )
        for key in ("name", "arguments"):
            if key not in fn:
                bad(
                    f"Missing required parameter: '{path}.function.{key}'.",
                    f"{path}.function.{key}",
                )
            if not isinstance(fn[key], str):
                bad(
                    f"Invalid type for '{path}.function.{key}': expected a string, but got"
                    f" {kind_of(fn[key])} instead.",
                    f"{path}.function.{key}",
                    "invalid_type",
                )
        if not NAME_PATTERN.match(fn["name"]):
            bad(
                f"Invalid '{path}.function.name': string does not match pattern. Expected a"
                " string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"{path}.function.name",
                "invalid_value",
            )
        if not isinstance(call["id"], str):
            bad(
                f"Invalid type for '{path}.id': expected a string, but got {kind_of(call['id'])} instead.",
                f"{path}.id",
            )
        if len(call["id"]) > MAX_CALL_ID:
            bad(
                f"Invalid '{path}.id': string too long. Expected a string with maximum"
                f" length {MAX_CALL_ID}, but got a string with length {len(call['id'])}"
                " instead.",
                f"{path}.id",
                "string_above_max_length",
            )
        try:
            args = json.loads(fn["arguments"]) if fn["arguments"] else {}
        except ValueError:
            args = {}
        out.append(
            FakeToolCall(fn["name"], args if isinstance(args, dict) else {}, call["id"])
        )
    return out


def _unanswered(pending: list[str], i: int) -> NoReturn:
    bad(
        "An assistant message with 'tool_calls' must be followed by tool messages"
        " responding to each 'tool_call_id'. The following tool_call_ids did not have"
        f" response messages: {', '.join(pending)}",
        f"messages.[{i}].role",
    )


@dataclass(slots=True)
class ParsedConversation:
    """The checked conversation: system text, neutral turns, what the fake counts."""

    system: str
    messages: list[FakeMessage] = field(default_factory=list)
    words: int = 0
    prefill: str | None = None
    first_image: int | None = None
    all_text: str = ""


def parse_messages(messages: list[Any]) -> ParsedConversation:
    """
    Check ``messages`` and build the neutral turns.

    Raises:
        WireError: The API's 400 for the first problem found.
    """
    systems: list[str] = []
    out = ParsedConversation("")
    texts: list[str] = []
    pending: list[str] = []  # calls of the latest assistant message still unanswered
    offered: dict[str, str] = {}  # id -> name, for the tool messages now allowed
    results: list[FakeToolResult] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping) or not isinstance(msg.get("role"), str):
            bad(
                f"Missing required parameter: 'messages[{i}].role'.",
                f"messages[{i}].role",
            )
        role = msg["role"]
        if role not in _ROLES:
            bad(
                f"Invalid value: '{role}'. Supported values are: {supported(_ROLES)}.",
                f"messages[{i}].role",
                "invalid_value",
            )
        extra(msg, _KEYS[role], f"messages.{i}", f"messages[{i}]")
        content = content_of(msg, i, role)
        texts.append(content.text)
        if role == "tool":
            use_id = msg.get("tool_call_id")
            if not isinstance(use_id, str):
                bad(
                    f"Missing required parameter: 'messages[{i}].tool_call_id'.",
                    f"messages[{i}].tool_call_id",
                )
            if not offered:
                bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a"
                    " preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if use_id not in offered:
                bad(
                    f"Invalid parameter: 'tool_call_id' of '{use_id}' not found in"
                    " 'tool_calls' of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            if use_id in pending:
                pending.remove(use_id)
            results.append(FakeToolResult(use_id, content.text, False, offered[use_id]))
            continue
        if pending:
            _unanswered(pending, i)
        offered = {}
        if role in ("system", "developer"):
            systems.append(content.text)
            continue
        if role == "function":  # the legacy shape: a result named after its function
            results.append(
                FakeToolResult(
                    str(msg.get("name", "")), content.text, False, msg.get("name")
                )
            )
            continue
        if content.images and out.first_image is None:
            out.first_image = i
        if role == "user":
            out.messages.append(
                FakeMessage("user", content.text, (), tuple(results), content.images)
            )
            results = []
            continue
        if results:
            out.messages.append(FakeMessage("user", "", (), tuple(results)))
            results = []
        calls = _tool_calls(msg, i)
        if (
            content.text == ""
            and msg.get("content") is None
            and not calls
            and msg.get("function_call") is None
        ):
            bad(
                "Invalid value for 'content': expected a string, got null.",
                f"messages.[{i}].content",
            )
        pending = [str(c.id) for c in calls]
        offered = {str(c.id): c.name for c in calls}
        thinking = msg.get("reasoning_content")
        out.messages.append(
            FakeMessage(
                "assistant",
                content.text,
                tuple(calls),
                (),
                thinking=thinking if isinstance(thinking, str) else None,
            )  # fmt: skip
        )
    if pending:
        _unanswered(pending, len(messages) - 1)
    if results:
        out.messages.append(FakeMessage("user", "", (), tuple(results)))
    out.system = "\n\n".join(systems)
    out.all_text = "\n".join(texts)
    out.words = sum(
        count_words(m.text) + sum(count_words(r.content) for r in m.tool_results)
        for m in out.messages
    )
    last = out.messages[-1] if out.messages else None
    if (
        last is not None
        and last.role == "assistant"
        and not last.tool_calls
        and messages[-1].get("role") == "assistant"
    ):
        out.prefill = last.text
    return out
