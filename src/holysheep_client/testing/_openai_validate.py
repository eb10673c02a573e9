"""
Validating an OpenAI chat-completions request body as the real API does.

Every top-level field the API accepts today is known (see `REQUEST_FIELDS`);
anything else is ``Unrecognized request argument supplied: <field>``. Sampling,
``stop``, ``user``, ``reasoning_effort``, ``tools``, ``tool_choice`` and
``response_format`` (strict schemas included) are checked here, the
conversation in `_openai_messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ._chat import FakeChat, FakeTool
from ._openai_messages import NAME_PATTERN, bad, kind_of, parse_messages
from ._plan import ChatRequest, WireError, count_words
from ._schema import strict_schema_problem

__all__ = ["REQUEST_FIELDS", "parse_request"]

#: Every top-level field of ``POST /v1/chat/completions`` the API accepts.
REQUEST_FIELDS: frozenset[str] = frozenset(
    {
        "messages", "model", "audio", "frequency_penalty", "function_call", "functions",
        "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "metadata",
        "modalities", "moderation", "n", "parallel_tool_calls", "prediction",
        "presence_penalty", "prompt_cache_key", "prompt_cache_options",
        "prompt_cache_retention", "reasoning_effort", "response_format",
        "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
        "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p",
        "user", "verbosity", "web_search_options",
    }
)  # fmt: skip
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_FORMATS = ("text", "json_object", "json_schema")


def _supported(key: str, value: Any, values: tuple[str, ...]) -> None:
    if value not in values:
        listed = ", ".join(f"'{v}'" for v in values[:-1]) + f", and '{values[-1]}'"
        bad(f"Invalid value: '{value}'. Supported values are: {listed}.", key, "invalid_value")


def _name(name: Any, param: str) -> str:
    if not isinstance(name, str):
        bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
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


def _top_p(body: Mapping[str, Any]) -> None:
    value = body.get("top_p")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        bad(f"Invalid type for 'top_p': expected a decimal, but got {kind_of(value)} instead.", "top_p", "invalid_type")
    if value > 1:
        bad(f"Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got {value} instead.", "top_p", "decimal_above_max_value")
    if value < 0:
        bad(f"Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got {value} instead.", "top_p", "decimal_below_min_value")


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        bad(
            f"Invalid type for 'stop': expected one of a string or array of strings, but got {kind_of(value)} instead.",
            "stop",
            "invalid_type",
        )
    if len(value) > 4:
        bad(
            "Invalid 'stop': array too long. Expected an array with maximum length 4, but"
            f" got an array with length {len(value)} instead.",
            "stop",
            "array_above_max_length",
        )
    return tuple(value)


def _tools(value: Any) -> tuple[FakeTool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        bad(f"Invalid type for 'tools': expected an array, but got {kind_of(value)} instead.", "tools", "invalid_type")
    out = []
    for i, tool in enumerate(value):
        path = f"tools[{i}]"
        if not isinstance(tool, Mapping) or "type" not in tool:
            bad(f"Missing required parameter: '{path}.type'.", f"{path}.type", "missing_required_parameter")
        if tool["type"] == "custom":
            custom = tool.get("custom")
            if not isinstance(custom, Mapping):
                bad(f"Missing required parameter: '{path}.custom'.", f"{path}.custom", "missing_required_parameter")
            out.append(FakeTool(_name(custom.get("name"), f"{path}.custom.name"), str(custom.get("description", ""))))
            continue
        if tool["type"] != "function":
            bad(f"Invalid value: '{tool['type']}'. Supported values are: 'function' and 'custom'.", f"{path}.type", "invalid_value")
        fn = tool.get("function")
        if not isinstance(fn, Mapping):
            bad(f"Missing required parameter: '{path}.function'.", f"{path}.function", "missing_required_parameter")
        for key in fn:
            if key not in ("name", "description", "parameters", "strict"):
                bad(f"Additional properties are not allowed ('{key}' was unexpected) - 'tools.{i}.function'", f"{path}.function")
        name = _name(fn.get("name"), f"{path}.function.name")
        params = fn.get("parameters", {"type": "object", "properties": {}})
        param = f"{path}.function.parameters"
        if not isinstance(params, Mapping):
            bad(f"Invalid type for '{param}': expected an object, but got {kind_of(params)} instead.", param, "invalid_type")
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
            bad(f"Invalid 'tools': function name '{name}' is used more than once; tool names must be unique.", "tools", "invalid_value")
    return tuple(out)


def _tool_choice(
    value: Any, tools: tuple[FakeTool, ...]
) -> tuple[Literal["auto", "any", "none", "tool"] | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        _supported("tool_choice", value, ("none", "auto", "required"))
        if value == "required" and not tools:
            bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice")
        return ("any" if value == "required" else value), None  # type: ignore[return-value]
    if not isinstance(value, Mapping) or "type" not in value:
        bad("Missing required parameter: 'tool_choice.type'.", "tool_choice.type", "missing_required_parameter")
    if not tools:
        bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice")
    kind = value["type"]
    if kind == "allowed_tools":
        allowed = value.get("allowed_tools")
        mode = allowed.get("mode") if isinstance(allowed, Mapping) else None
        _supported("tool_choice.allowed_tools.mode", mode, ("auto", "required"))
        return ("any" if mode == "required" else "auto"), None
    if kind not in ("function", "custom"):
        _supported("tool_choice.type", kind, ("function", "custom", "allowed_tools"))
    inner = value.get(kind)
    name = inner.get("name") if isinstance(inner, Mapping) else None
    if not isinstance(name, str):
        bad(f"Missing required parameter: 'tool_choice.{kind}.name'.", f"tool_choice.{kind}.name", "missing_required_parameter")
    if all(t.name != name for t in tools):
        bad(f"Invalid value for 'tool_choice': no {kind} named '{name}' was specified in the 'tools' parameter.", "tool_choice")
    return "tool", name


def _response_format(value: Any, all_text: str) -> tuple[dict[str, Any] | None, str | None, bool]:
    if value is None:
        return None, None, False
    if not isinstance(value, Mapping) or "type" not in value:
        bad("Missing required parameter: 'response_format.type'.", "response_format.type", "missing_required_parameter")
    kind = value["type"]
    _supported("response_format.type", kind, _FORMATS)
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
        bad("Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema", "missing_required_parameter")
    name = _name(spec.get("name"), "response_format.json_schema.name")
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


def _scalars(body: Mapping[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        bad("you must provide a model parameter", "model")
    if "messages" not in body:
        bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(body["messages"], list) or not body["messages"]:
        bad("[] is too short - 'messages'", "messages")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        bad("max_tokens must be a positive integer", "max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 2.0
    ):
        bad(f"{temperature!r} is greater than the maximum of 2 - 'temperature'", "temperature")
    _top_p(body)
    if "user" in body and not isinstance(body["user"], str):
        bad(f"Invalid type for 'user': expected a string, but got {kind_of(body['user'])} instead.", "user", "invalid_type")
    effort = body.get("reasoning_effort")
    if effort is not None:
        _supported("reasoning_effort", effort, _EFFORTS)
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        bad(f"Invalid type for 'stream': expected a boolean, but got {kind_of(body['stream'])} instead.", "stream", "invalid_type")
    if body.get("stream_options") is not None and body.get("stream") is not True:
        bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")


def parse_request(body: Any) -> ChatRequest:
    """
    Validate a chat-completions request body as the real API does.

    Args:
        body: The decoded JSON body.

    Returns:
        The parsed request, with its `FakeChat` view.

    Raises:
        WireError: 400 with the API's message (and ``param``) for the first problem.
    """
    if not isinstance(body, dict):
        raise WireError(400, "We could not parse the JSON body of your request.")
    for key in body:
        if key not in REQUEST_FIELDS:
            bad(f"Unrecognized request argument supplied: {key}")
    _scalars(body)
    stop = _stop(body.get("stop"))
    tools = _tools(body.get("tools"))
    if "parallel_tool_calls" in body and not tools:
        bad("Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.", "parallel_tool_calls")
    choice, forced = _tool_choice(body.get("tool_choice"), tools)
    conversation = parse_messages(body["messages"])
    schema, schema_name, wants_json = _response_format(body.get("response_format"), conversation.all_text)
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    effort = body.get("reasoning_effort")
    stream = body.get("stream") is True
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    chat = FakeChat(
        protocol="openai",
        model=body["model"],
        system=conversation.system,
        messages=tuple(conversation.messages),
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        schema=schema,
        schema_name=schema_name,
        wants_json=wants_json,
        has_images=conversation.first_image is not None,
        stream=stream,
        reasoning=effort if effort not in (None, "none") else None,
        max_tokens=max_tokens,
        stop=stop,
        body=body,
    )
    return ChatRequest(
        model=body["model"],
        stream=stream,
        max_tokens=max_tokens,
        prompt_words=count_words(conversation.system) + conversation.words,
        prefill=conversation.prefill,
        body=body,
        include_usage=include_usage,
        chat=chat,
        first_image=conversation.first_image,
    )
