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
from typing import Any

from ._chat import FakeChat
from ._openai_messages import parse_messages
from ._openai_parts import bad, kind_of
from ._openai_tools import (
    check_supported,
    parse_response_format,
    parse_tool_choice,
    parse_tools,
)
from ._plan import ChatRequest, WireError, count_words

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


def _top_p(body: Mapping[str, Any]) -> None:
    value = body.get("top_p")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        bad(
            f"Invalid type for 'top_p': expected a decimal, but got {kind_of(value)} instead.",
            "top_p",
            "invalid_type",
        )
    if value > 1:
        bad(
            f"Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got {value} instead.",
            "top_p",
            "decimal_above_max_value",
        )
    if value < 0:
        bad(
            f"Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got {value} instead.",
            "top_p",
            "decimal_below_min_value",
        )


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


def _scalars(body: Mapping[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        bad("you must provide a model parameter", "model")
    if "messages" not in body:
        bad(
            "Missing required parameter: 'messages'.",
            "messages",
            "missing_required_parameter",
        )
    if not isinstance(body["messages"], list) or not body["messages"]:
        bad("[] is too short - 'messages'", "messages")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or max_tokens < 1
    ):
        bad("max_tokens must be a positive integer", "max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 2.0
    ):
        bad(
            f"{temperature!r} is greater than the maximum of 2 - 'temperature'",
            "temperature",
        )
    _top_p(body)
    if "user" in body and not isinstance(body["user"], str):
        bad(
            f"Invalid type for 'user': expected a string, but got {kind_of(body['user'])} instead.",
            "user",
            "invalid_type",
        )
    effort = body.get("reasoning_effort")
    if effort is not None:
        check_supported("reasoning_effort", effort, _EFFORTS)
    if (
        "stream" in body
        and body["stream"] is not None
        and not isinstance(body["stream"], bool)
    ):
        bad(
            f"Invalid type for 'stream': expected a boolean, but got {kind_of(body['stream'])} instead.",
            "stream",
            "invalid_type",
        )
    if body.get("stream_options") is not None and body.get("stream") is not True:
        bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )


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
    tools = parse_tools(body.get("tools"))
    if "parallel_tool_calls" in body and not tools:
        bad(
            "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
            "parallel_tool_calls",
        )
    choice, forced = parse_tool_choice(body.get("tool_choice"), tools)
    conversation = parse_messages(body["messages"])
    schema, schema_name, wants_json = parse_response_format(
        body.get("response_format"), conversation.all_text
    )
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
