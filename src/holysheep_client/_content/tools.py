"""
Tools and tool choice, from our `Tool` or either protocol's dict, checked once.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._runtime import RUNTIME
from ..errors import BadRequestError
from .blocks import Tool
from .encoded import CACHE_LIMIT, marshal_key, remember

__all__ = ["ToolChoice", "normalize_tool_choice", "normalize_tools", "wire_id"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """
    How the model may use the tools: ``auto``, ``any`` (some tool), ``none``, or
    ``tool`` (the named one).
    """

    kind: Literal["auto", "any", "none", "tool"]
    name: str | None = None


def wire_id(tool_use_id: str) -> str:
    """
    A tool-call id in the characters the Anthropic API accepts (``[a-zA-Z0-9_-]``).

    The same mapping is applied to a call and to its result, so they stay paired;
    ids that are already safe (both protocols' own) are kept as they are. An unsafe
    id gets its other characters replaced and a digest of the original appended, so
    two ids that differ only there (``call.1``, ``call:1``) stay two ids.
    """
    if not _ID_UNSAFE.search(tool_use_id):
        return tool_use_id
    digest = hashlib.sha256(tool_use_id.encode()).hexdigest()[:12]
    return f"{_ID_UNSAFE.sub('_', tool_use_id)}_{digest}"


def _schema(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequestError(f"{where}: expected a JSON schema object")
    if value.get("type", "object") != "object":
        raise BadRequestError(f"{where}: a tool's input schema must have type 'object'")
    props = value.get("properties", {})
    if not isinstance(props, Mapping):
        raise BadRequestError(f"{where}.properties: expected an object")
    required = value.get("required", [])
    if not isinstance(required, Sequence) or isinstance(required, str):
        raise BadRequestError(f"{where}.required: expected a list of property names")
    return value if "type" in value else {"type": "object", **value}


def _tool(item: object, where: str) -> Tool:
    name: object
    desc: object
    schema: object
    cache: Any
    if isinstance(item, Tool):
        name, desc, schema = item.name, item.description, item.input_schema
        cache, schema_where = item.cache_control, f"{where}.input_schema"
    elif isinstance(item, Mapping) and item.get("type") == "function":
        fn = item.get("function")
        if not isinstance(fn, Mapping):
            raise BadRequestError(f"{where}.function: expected an object")
        name, desc, cache = fn.get("name"), fn.get("description", ""), None
        schema = fn.get("parameters", {"type": "object", "properties": {}})
        schema_where = f"{where}.function.parameters"
    elif isinstance(item, Mapping) and "input_schema" in item:
        name, desc, schema = (
            item.get("name"),
            item.get("description", ""),
            item["input_schema"],
        )
        cache, schema_where = item.get("cache_control"), f"{where}.input_schema"
    elif isinstance(item, Mapping) and "type" in item:
        raise BadRequestError(
            f"{where}: a server tool of type {item['type']!r} is not portable between"
            " protocols; give a function tool"
        )
    else:
        raise BadRequestError(f"{where}: expected a Tool or a tool definition")
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadRequestError(
            f"{where}.name: expected 1-64 letters, digits, '_' or '-'"
        )
    if not isinstance(desc, str):
        raise BadRequestError(f"{where}.description: expected a string")
    return Tool(name, desc, _schema(schema, schema_where), cache_control=cache)


def normalize_tools(tools: object) -> tuple[Tool, ...]:
    """
    Tools given as `Tool` objects or either protocol's dicts.

    Plain dicts are normalized once per content (see ``encoded.py``): a call that
    gives the same tools again gets the same `Tool` objects, over private copies of
    the schemas, whatever the caller did to its own dicts in between.

    Raises:
        BadRequestError: A tool without a valid name or object schema, or a duplicate.
    """
    if tools is None:
        return ()
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
        raise BadRequestError("tools: expected a list of tools")
    key = marshal_key(tools)
    if key is None:  # Tool objects, or not plain data
        return _normalize(tools)
    return RUNTIME.bounded("tools", key, lambda: _private(key), CACHE_LIMIT)


def _private(key: bytes) -> tuple[Tool, ...]:
    """The tools of content ``key``, over a copy of it nothing else holds."""
    out = _normalize(marshal.loads(key))
    for tool in out:
        remember(tool.input_schema)
    return out


def _normalize(tools: Sequence[object]) -> tuple[Tool, ...]:
    out = tuple(_tool(t, f"tools[{i}]") for i, t in enumerate(tools))
    names = [t.name for t in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise BadRequestError(f"tools[{i}].name: duplicate tool name {name!r}")
    return out


def normalize_tool_choice(choice: object, tools: Sequence[Tool]) -> ToolChoice | None:
    """
    ``"auto" | "any" | "none" | {"name": ...}``, or either protocol's forms.

    Raises:
        BadRequestError: An unknown form, or a named tool that is not among ``tools``.
    """
    if choice is None:
        return None
    kind: str | None = None
    name: object = None
    if isinstance(choice, str):
        kind = {"auto": "auto", "any": "any", "required": "any", "none": "none"}.get(
            choice
        )
    elif isinstance(choice, Mapping):
        if choice.get("type") == "function" and isinstance(
            choice.get("function"), Mapping
        ):
            kind, name = "tool", choice["function"].get("name")
        elif "name" in choice and choice.get("type", "tool") == "tool":
            kind, name = "tool", choice.get("name")
        elif choice.get("type") in ("auto", "any", "none"):
            kind = str(choice["type"])
    if kind is None:
        raise BadRequestError(
            "tool_choice: expected 'auto', 'any', 'none' or {'name': <tool>}"
        )
    if kind != "none" and not tools:
        raise BadRequestError("tool_choice: given without any tools")
    if kind == "tool":
        if not isinstance(name, str) or name not in {t.name for t in tools}:
            raise BadRequestError("tool_choice.name: names no tool among tools")
        return ToolChoice("tool", name)
    return ToolChoice(kind)  # type: ignore[arg-type]
