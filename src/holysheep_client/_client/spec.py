"""
Checking a call's arguments into a `ChatRequestSpec`, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from .._content.normalize import normalize_messages
from .._content.request import ChatRequestSpec, Reasoning
from .._content.schemas import normalize_response_format
from .._content.tools import normalize_tool_choice, normalize_tools
from ..errors import BadRequestError

__all__ = ["ReasoningArg", "ResponseFormatArg", "ToolChoiceArg", "build_spec"]

#: ``"auto" | "any" | "none" | {"name": ...}``, or OpenAI's forms.
ToolChoiceArg: TypeAlias = str | Mapping[str, Any]
#: A pydantic model class, a JSON-schema dict, or ``"json"``.
ResponseFormatArg: TypeAlias = type[Any] | Mapping[str, Any] | str
#: ``"low" | "medium" | "high"`` or a token budget.
ReasoningArg: TypeAlias = str | int

_EFFORTS = frozenset({"low", "medium", "high"})


def _stop(stop: object) -> tuple[str, ...]:
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, Sequence) or not all(isinstance(s, str) for s in items):
        raise BadRequestError("stop: expected a string or a list of strings")
    if len(items) > 4:
        raise BadRequestError("stop: at most 4 sequences (the OpenAI protocol's limit)")
    for s in items:
        if not s.strip():
            raise BadRequestError(
                "stop: each sequence needs a character that is not white space"
            )
    return tuple(items)


def _number(value: object, name: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not low <= value <= high
    ):
        raise BadRequestError(f"{name}: expected a number between {low:g} and {high:g}")
    return float(value)


def _reasoning(value: object) -> Reasoning | None:
    if value is None:
        return None
    if isinstance(value, str) and value in _EFFORTS:
        return value  # type: ignore[return-value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise BadRequestError(
        "reasoning: expected 'low', 'medium', 'high' or a token budget (an integer >= 1)"
    )


def build_spec(
    messages: Sequence[Any],
    *,
    model: str,
    max_tokens: int,
    temperature: float | None,
    stream: bool,
    extra: Mapping[str, Any] | None,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    response_format: Any = None,
    stop: str | Sequence[str] | None = None,
    top_p: float | None = None,
    user: str | None = None,
    reasoning: str | int | None = None,
) -> ChatRequestSpec:
    """
    Validate and normalise the arguments of a chat call.

    Raises:
        BadRequestError: Naming the argument that is wrong (raised locally, no status).
    """
    conversation = normalize_messages(messages)
    if not isinstance(model, str) or not model:
        raise BadRequestError("model: expected a non-empty model id or alias")
    if (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or max_tokens < 1
    ):
        raise BadRequestError("max_tokens: expected an integer >= 1")
    if user is not None and (not isinstance(user, str) or not user):
        raise BadRequestError("user: expected a non-empty string")
    if extra is not None and not isinstance(extra, Mapping):
        raise BadRequestError("extra: expected a mapping of JSON fields")
    normal_tools = normalize_tools(tools)
    return ChatRequestSpec(
        model=model,
        conversation=conversation,
        max_tokens=max_tokens,
        temperature=_number(temperature, "temperature", 0, 2),
        stream=stream,
        extra=extra,
        tools=normal_tools,
        tool_choice=normalize_tool_choice(tool_choice, normal_tools),
        output=normalize_response_format(response_format),
        stop=_stop(stop),
        top_p=_number(top_p, "top_p", 0, 1),
        user=user,
        reasoning=_reasoning(reasoning),
        messages=tuple(messages),
    )
