"""
OpenAI chat ``messages`` as the real API checks them: message shapes by role,
content parts, assistant ``tool_calls`` and the ``tool`` messages answering them.

Messages follow the API's own wording (``Invalid 'messages[1].tool_calls[0]...'``,
``param`` set) where it is known.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ._anthropic_messages import sniff_image
from ._chat import FakeMessage, FakeToolCall, FakeToolResult
from ._plan import WireError, count_words

__all__ = ["NAME_PATTERN", "ParsedConversation", "bad", "kind_of", "parse_messages"]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    # reasoning_content: DeepSeek-style providers (as this fake plays) take it back.
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "refusal", "audio",
         "reasoning_content"}
    ),  # fmt: skip
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
_PARTS = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
}
_PART_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"type", "text", "prompt_cache_breakpoint"}),
    "image_url": frozenset({"type", "image_url", "prompt_cache_breakpoint"}),
    "input_audio": frozenset({"type", "input_audio"}),
    "file": frozenset({"type", "file", "prompt_cache_breakpoint"}),
    "refusal": frozenset({"type", "refusal"}),
}
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]+)(?P<params>(;[^;,]*)*),(?P<data>.*)$", re.S)
_IMAGE_EXAMPLE = (
    "Expected a base64-encoded data URL with an image MIME type (e.g."
    " 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got"
)
_UNSUPPORTED_IMAGE = (
    "You uploaded an unsupported image. Please make sure your image is below 20 MB in"
    " size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp']."
)


def bad(message: str, param: str | None = None, code: str | None = None) -> NoReturn:
    """Raise OpenAI's 400 (``invalid_request_error``) with ``param`` and ``code``."""
    raise WireError(400, message, param=param, code=code)


def kind_of(value: Any) -> str:
    """How OpenAI names a JSON value's type: ``a string``, ``an object``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _extra(obj: Mapping[str, Any], allowed: frozenset[str], where: str, param: str) -> None:
    for key in obj:
        if key not in allowed:
            bad(f"Additional properties are not allowed ('{key}' was unexpected) - '{where}'", param)


def _image(part: Mapping[str, Any], path: str) -> None:
    image = part.get("image_url")
    if not isinstance(image, Mapping):
        bad(
            f"Invalid type for '{path}.image_url': expected an object, but got"
            f" {kind_of(image)} instead.",
            f"{path}.image_url",
            "invalid_type",
        )
    _extra(image, frozenset({"url", "detail"}), f"{path}.image_url", f"{path}.image_url")
    url = image.get("url")
    param = f"{path}.image_url.url"
    if not isinstance(url, str):
        bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    detail = image.get("detail")
    if detail is not None and detail not in ("auto", "low", "high", "original"):
        bad(
            f"Invalid value: '{detail}'. Supported values are: 'auto', 'low', 'high', and 'original'.",
            f"{path}.image_url.detail",
            "invalid_value",
        )
    if url.startswith(("https://", "http://")):
        return
    prefix = f"Invalid image URL: '{param}'. {_IMAGE_EXAMPLE}"
    match = _DATA_URL.match(url)
    if match is None:
        bad(f"{prefix} a value without the 'data:' prefix.", param, "invalid_value")
    mime = match["mime"].strip().lower()
    if not mime.startswith("image/"):
        bad(f"{prefix} unsupported MIME type '{mime}'.", param, "invalid_value")
    if ";base64" not in match["params"]:
        bad(f"{prefix} a value that is not base64-encoded.", param, "invalid_value")
    if not match["data"]:
        bad(f"{prefix} empty base64-encoded bytes.", param, "invalid_value")
    try:
        raw = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        bad(f"{prefix} an invalid base64-encoded value.", param, "invalid_value")
    if sniff_image(raw) is None:
        bad(_UNSUPPORTED_IMAGE, None, "invalid_image_format")


@dataclass(slots=True)
class _Content:
    text: str = ""
    images: int = 0


def _content(msg: Mapping[str, Any], i: int, role: str) -> _Content:
    content = msg.get("content")
    param = f"messages[{i}].content"
    if content is None:
        if role == "assistant":
            return _Content()
        bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if isinstance(content, str):
        return _Content(content)
    if not isinstance(content, list):
        bad(
            f"Invalid type for '{param}': expected one of a string or array of objects,"
            f" but got {kind_of(content)} instead.",
            param,
            "invalid_type",
        )
    if not content:
        bad(
            f"Invalid '{param}': array too short. Expected an array with minimum length 1,"
            " but got an empty array instead.",
            param,
            "empty_array",
        )
    allowed = _PARTS.get(role, ("text",))
    out = _Content()
    for j, part in enumerate(content):
        path = f"{param}[{j}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(part, Mapping) or kind not in allowed:
            if role in ("user", "assistant") or kind != "image_url":
                bad(
                    f"Invalid value: '{kind}'. Supported values are: {_supported(allowed)}.",
                    f"{path}.type",
                    "invalid_value",
                )
            bad(
                "Invalid content type. image_url is only supported by certain models.",
                f"messages.[{i}].content.[{j}].type",
            )
        _extra(part, _PART_KEYS[kind], f"messages.{i}.content.{j}", path)
        if kind == "text":
            if not isinstance(part.get("text"), str):
                bad(f"Missing required parameter: '{path}.text'.", f"{path}.text")
            out.text += part["text"]
        elif kind == "refusal":
            if not isinstance(part.get("refusal"), str):
                bad(f"Missing required parameter: '{path}.refusal'.", f"{path}.refusal")
        elif kind == "image_url":
            _image(part, path)
            out.images += 1
    return out


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
            bad(f"Invalid type for '{path}': expected an object, but got {kind_of(call)} instead.", path)
        for key in ("id", "type", "function"):
            if key not in call:
                bad(f"Missing required parameter: '{path}.{key}'.", f"{path}.{key}")
        _extra(call, frozenset({"id", "type", "function"}), f"messages.{i}.tool_calls.{k}", path)
        if call["type"] != "function":
            bad(f"Invalid value: '{call['type']}'. Supported values are: 'function'.", f"{path}.type")
        fn = call["function"]
        if not isinstance(fn, Mapping):
            bad(f"Invalid type for '{path}.function': expected an object, but got {kind_of(fn)} instead.", f"{path}.function")
        for key in ("name", "arguments"):
            if key not in fn:
                bad(f"Missing required parameter: '{path}.function.{key}'.", f"{path}.function.{key}")
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
            bad(f"Invalid type for '{path}.id': expected a string, but got {kind_of(call['id'])} instead.", f"{path}.id")
        try:
            args = json.loads(fn["arguments"]) if fn["arguments"] else {}
        except ValueError:
            args = {}
        out.append(FakeToolCall(fn["name"], args if isinstance(args, dict) else {}, call["id"]))
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
            bad(f"Missing required parameter: 'messages[{i}].role'.", f"messages[{i}].role")
        role = msg["role"]
        if role not in _ROLES:
            bad(f"Invalid value: '{role}'. Supported values are: {_supported(_ROLES)}.", f"messages[{i}].role", "invalid_value")
        _extra(msg, _KEYS[role], f"messages.{i}", f"messages[{i}]")
        content = _content(msg, i, role)
        texts.append(content.text)
        if role == "tool":
            use_id = msg.get("tool_call_id")
            if not isinstance(use_id, str):
                bad(f"Missing required parameter: 'messages[{i}].tool_call_id'.", f"messages[{i}].tool_call_id")
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
            results.append(FakeToolResult(str(msg.get("name", "")), content.text, False, msg.get("name")))
            continue
        if content.images and out.first_image is None:
            out.first_image = i
        if role == "user":
            out.messages.append(FakeMessage("user", content.text, (), tuple(results), content.images))
            results = []
            continue
        if results:
            out.messages.append(FakeMessage("user", "", (), tuple(results)))
            results = []
        calls = _tool_calls(msg, i)
        if content.text == "" and msg.get("content") is None and not calls and msg.get("function_call") is None:
            bad("Invalid value for 'content': expected a string, got null.", f"messages.[{i}].content")
        pending = [str(c.id) for c in calls]
        offered = {str(c.id): c.name for c in calls}
        thinking = msg.get("reasoning_content")
        out.messages.append(
            FakeMessage(
                "assistant", content.text, tuple(calls), (),
                thinking=thinking if isinstance(thinking, str) else None,
            )  # fmt: skip
        )
    if pending:
        _unanswered(pending, len(messages) - 1)
    if results:
        out.messages.append(FakeMessage("user", "", (), tuple(results)))
    out.system = "\n\n".join(systems)
    out.all_text = "\n".join(texts)
    out.words = sum(count_words(m.text) + sum(count_words(r.content) for r in m.tool_results) for m in out.messages)
    last = out.messages[-1] if out.messages else None
    if last is not None and last.role == "assistant" and not last.tool_calls and messages[-1].get("role") == "assistant":
        out.prefill = last.text
    return out
