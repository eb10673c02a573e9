"""
Validating an Anthropic Messages request body as the real API does.

Every top-level field the API accepts today is known (see `REQUEST_FIELDS`);
anything else is ``<field>: Extra inputs are not permitted``. Sampling,
``thinking``, ``tools``, ``tool_choice``, ``metadata``, ``stop_sequences``,
``output_config`` and ``cache_control`` are checked here, the conversation in
`_anthropic_messages`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from ._anthropic_blocks import (
    CacheTally,
    check_cache_control,
    check_extra,
    fail,
    literal,
)
from ._anthropic_messages import parse_messages, parse_system
from ._chat import FakeChat, FakeTool
from ._plan import ChatRequest, WireError, count_words

__all__ = ["REQUEST_FIELDS", "parse_request"]

#: Every top-level field of ``POST /v1/messages`` (non-beta) the API accepts.
REQUEST_FIELDS: frozenset[str] = frozenset(
    {
        "model", "messages", "max_tokens", "cache_control", "container", "diagnostics",
        "inference_geo", "metadata", "output_config", "service_tier", "speed",
        "stop_sequences", "stream", "system", "temperature", "thinking", "tool_choice",
        "tools", "top_k", "top_p",
    }
)  # fmt: skip
_TOOL_FIELDS = frozenset(
    {
        "name", "input_schema", "description", "cache_control", "type", "strict",
        "allowed_callers", "defer_loading", "eager_input_streaming", "input_examples",
    }
)  # fmt: skip
_SERVER_TOOL = re.compile(r"^[a-z][a-z0-9_]*_\d{8}$")
_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_THINKING_TYPES = ("enabled", "disabled", "adaptive", "between_tools")
_EFFORTS = ("low", "medium", "high", "xhigh", "max")
_TEMPERATURE_THINKING = (
    "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode."
    " Please consult our documentation at"
    " https://platform.claude.com/docs/en/build-with-claude/extended-thinking"
)


def _number(body: Mapping[str, Any], key: str, low: float, high: float | None) -> None:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(key, "Input should be a valid number")
    if value < low:
        fail(key, f"Input should be greater than or equal to {low:g}")
    if high is not None and value > high:
        fail(key, f"Input should be less than or equal to {high:g}")


def _metadata(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        fail("metadata", "Input should be a valid dictionary")
    check_extra(value, {"user_id"}, "metadata")
    user_id = value.get("user_id")
    if user_id is not None:
        if not isinstance(user_id, str):
            fail("metadata.user_id", "Input should be a valid string")
        if len(user_id) > 256:
            fail("metadata.user_id", "String should have at most 256 characters")


def _stop_sequences(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        fail("stop_sequences", "Input should be a valid list")
    for i, seq in enumerate(value):
        if not isinstance(seq, str):
            fail(f"stop_sequences.{i}", "Input should be a valid string")
        if not seq:
            fail("stop_sequences", "each stop sequence must be non-empty")
        if not seq.strip():
            fail("stop_sequences", "each stop sequence must contain non-whitespace")
    return tuple(value)


def _thinking(value: Any, max_tokens: int) -> tuple[str | None, int | None]:
    if value is None:
        return None, None
    if not isinstance(value, Mapping) or "type" not in value:
        fail("thinking", "Unable to extract tag using discriminator 'type'")
    kind = value["type"]
    if kind not in _THINKING_TYPES:
        expected = ", ".join(f"'{t}'" for t in _THINKING_TYPES)
        fail(
            "thinking",
            f"Input tag '{kind}' found using 'type' does not match any of the"
            f" expected tags: {expected}",
        )
    fields = {"type", "budget_tokens", "display"} if kind == "enabled" else {"type"}
    if kind == "adaptive":
        fields.add("display")
    check_extra(value, fields, f"thinking.{kind}")
    display = value.get("display")
    if display is not None and display not in ("summarized", "omitted"):
        fail(f"thinking.{kind}.display", "Input should be 'summarized' or 'omitted'")
    if kind != "enabled":
        return str(kind), None
    budget = value.get("budget_tokens")
    if budget is None:
        fail("thinking.enabled.budget_tokens", "Field required")
    if isinstance(budget, bool) or not isinstance(budget, int):
        fail("thinking.enabled.budget_tokens", "Input should be a valid integer")
    if budget < 1024:
        fail(
            "thinking.enabled.budget_tokens",
            "Input should be greater than or equal to 1024",
        )
    if max_tokens <= budget:
        raise WireError(
            400,
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult"
            " our documentation at https://docs.claude.com/en/docs/build-with-claude/"
            "extended-thinking#max-tokens-and-context-window-size",
        )
    return "enabled", budget


def _input_schema(schema: Any, path: str) -> dict[str, Any]:
    if schema is None:
        fail(path, "Field required")
    if not isinstance(schema, dict):
        fail(path, "Input should be a valid dictionary")
    if any(k in schema for k in ("oneOf", "allOf", "anyOf")):
        fail(
            path,
            "input_schema does not support oneOf, allOf, or anyOf at the top level",
        )
    if "type" not in schema:
        fail(f"{path}.type", "Field required")
    if schema["type"] != "object":
        fail(f"{path}.type", "Input should be 'object'")
    props = schema.get("properties")
    if props is not None and not isinstance(props, dict):
        fail(f"{path}.properties", "Input should be a valid dictionary")
    required = schema.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(r, str) for r in required)
    ):
        fail(f"{path}.required", "Input should be a valid list")
    return schema


def _tools(value: Any, tally: CacheTally) -> tuple[FakeTool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        fail("tools", "Input should be a valid list")
    out = []
    for i, tool in enumerate(value):
        if not isinstance(tool, Mapping):
            fail(f"tools.{i}", "Input should be a valid dictionary")
        kind = tool.get("type")
        if kind not in (None, "custom"):
            if not isinstance(kind, str) or not _SERVER_TOOL.match(kind):
                fail(
                    f"tools.{i}",
                    f"Input tag '{kind}' found using 'type' does not match any of the"
                    " expected tags: 'custom' or a versioned server tool type",
                )
            name = tool.get("name")
            if not isinstance(name, str):
                fail(f"tools.{i}.{kind}.name", "Field required")
            out.append(FakeTool(name))
            continue
        path = f"tools.{i}.custom"
        check_extra(tool, _TOOL_FIELDS, path)
        name = tool.get("name")
        if name is None:
            fail(f"{path}.name", "Field required")
        if not isinstance(name, str):
            fail(f"{path}.name", "Input should be a valid string")
        if len(name) > 128:
            fail(f"{path}.name", "String should have at most 128 characters")
        if not _NAME.match(name):
            fail(f"{path}.name", "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
        description = tool.get("description", "")
        if not isinstance(description, str):
            fail(f"{path}.description", "Input should be a valid string")
        schema = _input_schema(tool.get("input_schema"), f"{path}.input_schema")
        check_cache_control(tool.get("cache_control"), f"{path}.cache_control", tally)
        out.append(FakeTool(name, description, schema))
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        fail("tools", "Tool names must be unique.")
    return tuple(out)


def _tool_choice(
    value: Any, tools: tuple[FakeTool, ...], thinking_on: bool
) -> tuple[Literal["auto", "any", "none", "tool"] | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        fail(
            "tool_choice",
            "Input should be a valid dictionary or object to extract fields from",
        )
    kind = value.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        fail(
            "tool_choice",
            f"Input tag '{kind}' found using 'type' does not match any of the expected"
            " tags: 'auto', 'any', 'tool', 'none'",
        )
    fields = {"type"} if kind == "none" else {"type", "disable_parallel_tool_use"}
    if kind == "tool":
        fields.add("name")
    check_extra(value, fields, f"tool_choice.{kind}")
    flag = value.get("disable_parallel_tool_use")
    if flag is not None and not isinstance(flag, bool):
        fail(
            f"tool_choice.{kind}.disable_parallel_tool_use",
            "Input should be a valid boolean",
        )
    name = None
    if kind == "tool":
        name = value.get("name")
        if not isinstance(name, str):
            fail("tool_choice.tool.name", "Field required")
    if kind in ("any", "tool"):
        if not tools:
            fail(
                "tool_choice",
                "tool_choice may only be specified while providing tools.",
            )
        if name is not None and all(t.name != name for t in tools):
            fail("tool_choice.tool.name", f"Tool '{name}' not found in provided tools")
        if thinking_on:
            raise WireError(
                400, "Thinking may not be enabled when tool_choice forces tool use."
            )
    return kind, name


def _output_config(value: Any) -> tuple[str | None, dict[str, Any] | None]:
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        fail("output_config", "Input should be a valid dictionary")
    check_extra(value, {"effort", "format"}, "output_config")
    effort = value.get("effort")
    if effort is not None and effort not in _EFFORTS:
        fail("output_config.effort", f"Input should be {literal(_EFFORTS)}")
    fmt = value.get("format")
    if fmt is None:
        return effort, None
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
        fail("output_config.format.type", "Input should be 'json_schema'")
    check_extra(fmt, {"type", "schema"}, "output_config.format")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        fail("output_config.format.schema", "Field required")
    return effort, schema


def _literals(body: Mapping[str, Any]) -> None:
    for key, allowed in (
        ("service_tier", ("auto", "standard_only")),
        ("speed", ("standard", "fast")),
    ):
        if body.get(key) is not None and body[key] not in allowed:
            fail(key, f"Input should be {literal(allowed)}")
    for key in ("inference_geo",):
        if body.get(key) is not None and not isinstance(body[key], str):
            fail(key, "Input should be a valid string")
    if "stream" in body and not isinstance(body["stream"], bool):
        fail("stream", "Input should be a valid boolean")


def parse_request(body: Any) -> ChatRequest:
    """
    Validate a Messages request body as the real API does.

    Args:
        body: The decoded JSON body.

    Returns:
        The parsed request, with its `FakeChat` view.

    Raises:
        WireError: 400 with the API's message for the first problem found.
    """
    if not isinstance(body, dict):
        raise WireError(400, "request body must be a JSON object")
    check_extra(body, REQUEST_FIELDS, "")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        fail("model", "Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        fail("max_tokens", "Field required")
    if max_tokens < 0:
        fail("max_tokens", "Input should be greater than or equal to 0")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 1.0
    ):
        raise WireError(400, "temperature: range: 0..1")
    _number(body, "top_p", 0.0, 1.0)
    _number(body, "top_k", 0, None)
    _literals(body)
    _metadata(body.get("metadata"))
    stop = _stop_sequences(body.get("stop_sequences"))
    tally = CacheTally()
    check_cache_control(body.get("cache_control"), "cache_control", tally)
    system = parse_system(body.get("system"), tally)
    thinking, budget = _thinking(body.get("thinking"), max_tokens)
    thinking_on = thinking in ("enabled", "adaptive")
    if thinking_on:
        if temperature is not None and temperature != 1:
            raise WireError(400, _TEMPERATURE_THINKING)
        if body.get("top_k") is not None:
            raise WireError(400, "`top_k` may not be set when thinking is enabled.")
        top_p = body.get("top_p")
        if top_p is not None and top_p < 0.95:
            raise WireError(
                400, "`top_p` must be between 0.95 and 1 when thinking is enabled."
            )
    tools = _tools(body.get("tools"), tally)
    choice, forced = _tool_choice(body.get("tool_choice"), tools, thinking_on)
    effort, fmt_schema = _output_config(body.get("output_config"))
    parsed = parse_messages(body.get("messages"), tally, thinking_on=thinking_on)
    if tally.count > 4:
        raise WireError(
            400,
            f"A maximum of 4 blocks with cache_control may be provided. Found {tally.count}.",
        )
    schema, schema_name = fmt_schema, None
    if schema is None and forced is not None:
        tool = next(t for t in tools if t.name == forced)
        schema, schema_name = dict(tool.input_schema), forced
    reasoning: str | int | None = budget if budget is not None else None
    if reasoning is None:
        reasoning = "adaptive" if thinking == "adaptive" else effort
    stream = body.get("stream") is True
    chat = FakeChat(
        protocol="anthropic",
        model=model,
        system=system,
        messages=tuple(parsed.messages),
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        schema=schema,
        schema_name=schema_name,
        wants_json=schema is not None,
        has_images=parsed.first_image is not None,
        stream=stream,
        reasoning=reasoning,
        max_tokens=max_tokens,
        stop=stop,
        body=body,
    )
    return ChatRequest(
        model=model,
        stream=stream,
        max_tokens=max_tokens,
        prompt_words=count_words(system) + parsed.words,
        prefill=parsed.prefill,
        body=body,
        chat=chat,
        first_image=parsed.first_image,
        thinking_on=thinking_on,
    )
