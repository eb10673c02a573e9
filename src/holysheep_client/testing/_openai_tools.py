"""
OpenAI ``tools``, ``tool_choice`` and ``response_format`` as the real API checks
them: function names, object schemas, strict schemas, forced tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ._chat import FakeTool
from ._openai_parts import NAME_PATTERN, bad, kind_of
from ._schema import strict_schema_problem

__all__ = [
    "check_name",
    "check_supported",
    "parse_response_format",
    "parse_tool_choice",
    "parse_tools",
]

_FORMATS = ("text", "json_object", "json_schema")


def check_supported(key: str, value: Any, values: tuple[str, ...]) -> None:
    if value not in values:
        listed = ", ".join(f"'{v}'" for v in values[:-1]) + f", and '{values[-1]}'"
        bad(
            f"Invalid value: '{value}'. Supported values are: {listed}.",
            key,
            "invalid_value",
        )


def check_name(name: Any, param: str) -> str:
    if not isinstance(name, str):
        bad(
            f"Missing required parameter: '{param}'.",
            param,
            "missing_required_parameter",
        )
    if len(name) > 64:
        bad(
            f"Invalid '{param}': string too long. Expected a string with maximum length 64,"
            f" but got a string with length {len(name)} instead.",
            param,
            "string_above_max_length",
        )
    if not NAME_PATTERN.match(name):
        bad(
            f"Invalid '{param}': string does not match pattern. Expected a string that"
            " matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param,
            "invalid_value",
        )
    return name


def parse_tools(value: Any) -> tuple[FakeTool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        bad(
            f"Invalid type for 'tools': expected an array, but got {kind_of(value)} instead.",
            "tools",
            "invalid_type",
        )
    out = []
    for i, tool in enumerate(value):
        path = f"tools[{i}]"
        if not isinstance(tool, Mapping) or "type" not in tool:
            bad(
                f"Missing required parameter: '{path}.type'.",
                f"{path}.type",
                "missing_required_parameter",
            )
        if tool["type"] == "custom":
            custom = tool.get("custom")
            if not isinstance(custom, Mapping):
                bad(
                    f"Missing required parameter: '{path}.custom'.",
                    f"{path}.custom",
                    "missing_required_parameter",
                )
            out.append(
                FakeTool(
                    check_name(custom.get("name"), f"{path}.custom.name"),
                    str(custom.get("description", "")),
                )
            )
            continue
        if tool["type"] != "function":
            bad(
                f"Invalid value: '{tool['type']}'. Supported values are: 'function' and 'custom'.",
                f"{path}.type",
                "invalid_value",
            )
        fn = tool.get("function")
        if not isinstance(fn, Mapping):
            bad(
                f"Missing required parameter: '{path}.function'.",
                f"{path}.function",
                "missing_required_parameter",
            )
        for key in fn:
            if key not in ("name", "description", "parameters", "strict"):
                bad(
                    f"Additional properties are not allowed ('{key}' was unexpected) - 'tools.{i}.function'",
                    f"{path}.function",
                )
        name = check_name(fn.get("name"), f"{path}.function.name")
        params = fn.get("parameters", {"type": "object", "properties": {}})
        param = f"{path}.function.parameters"
        if not isinstance(params, Mapping):
            bad(
                f"Invalid type for '{param}': expected an object, but got {kind_of(params)} instead.",
                param,
                "invalid_type",
            )
        if params.get("type") != "object":
            bad(
                f"Invalid schema for function '{name}': schema must be a JSON Schema of"
                f" 'type: \"object\"', got 'type: \"{params.get('type')}\"'.",
                param,
                "invalid_function_parameters",
            )
        if fn.get("strict") is True:
            problem = strict_schema_problem(params, kind="function", name=name)
            if problem:
                bad(problem, param, "invalid_function_parameters")
        out.append(FakeTool(name, str(fn.get("description", "")), dict(params)))
    names = [t.name for t in out]
    for name in names:
        if names.count(name) > 1:
            bad(
                f"Invalid 'tools': function name '{name}' is used more than once; tool names must be unique.",
                "tools",
                "invalid_value",
            )
    return tuple(out)


def parse_tool_choice(
    value: Any, tools: tuple[FakeTool, ...]
) -> tuple[Literal["auto", "any", "none", "tool"] | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        check_supported("tool_choice", value, ("none", "auto", "required"))
        if value == "required" and not tools:
            bad(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
            )
        return ("any" if value == "required" else value), None  # type: ignore[return-value]
    if not isinstance(value, Mapping) or "type" not in value:
        bad(
            "Missing required parameter: 'tool_choice.type'.",
            "tool_choice.type",
            "missing_required_parameter",
        )
    if not tools:
        bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    kind = value["type"]
    if kind == "allowed_tools":
        allowed = value.get("allowed_tools")
        mode = allowed.get("mode") if isinstance(allowed, Mapping) else None
        check_supported("tool_choice.allowed_tools.mode", mode, ("auto", "required"))
        return ("any" if mode == "required" else "auto"), None
    if kind not in ("function", "custom"):
        check_supported(
            "tool_choice.type", kind, ("function", "custom", "allowed_tools")
        )
    inner = value.get(kind)
    name = inner.get("name") if isinstance(inner, Mapping) else None
    if not isinstance(name, str):
        bad(
            f"Missing required parameter: 'tool_choice.{kind}.name'.",
            f"tool_choice.{kind}.name",
            "missing_required_parameter",
        )
    if all(t.name != name for t in tools):
        bad(
            f"Invalid value for 'tool_choice': no {kind} named '{name}' was specified in the 'tools' parameter.",
            "tool_choice",
        )
    return "tool", name


def parse_response_format(
    value: Any, all_text: str
) -> tuple[dict[str, Any] | None, str | None, bool]:
    if value is None:
        return None, None, False
    if not isinstance(value, Mapping) or "type" not in value:
        bad(
            "Missing required parameter: 'response_format.type'.",
            "response_format.type",
            "missing_required_parameter",
        )
    kind = value["type"]
    check_supported("response_format.type", kind, _FORMATS)
    if kind == "text":
        return None, None, False
    if kind == "json_object":
        if "json" not in all_text.lower():
            bad(
                "'messages' must contain the word 'json' in some form, to use"
                " 'response_format' of type 'json_object'.",
                "messages",
            )
        return None, None, True
    spec = value.get("json_schema")
    if not isinstance(spec, Mapping):
        bad(
            "Missing required parameter: 'response_format.json_schema'.",
            "response_format.json_schema",
            "missing_required_parameter",
        )
    name = check_name(spec.get("name"), "response_format.json_schema.name")
    schema = spec.get("schema", {})
    if not isinstance(schema, Mapping):
        bad(
            f"Invalid type for 'response_format.json_schema.schema': expected an object, but got {kind_of(schema)} instead.",
            "response_format.json_schema.schema",
            "invalid_type",
        )
    if spec.get("strict") is True:
        problem = strict_schema_problem(schema, kind="response_format", name=name)
        if problem:
            bad(problem, "response_format")
    return dict(schema), name, True
