"""
Checking a call's arguments into a `ChatRequestSpec`, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._protocols import ChatRequestSpec, check_messages
from ..errors import BadRequestError

__all__ = ["build_spec"]


def build_spec(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    max_tokens: int,
    temperature: float | None,
    stream: bool,
    extra: Mapping[str, Any] | None,
) -> ChatRequestSpec:
    """
    Validate the arguments of a chat call into a `ChatRequestSpec`.

    Raises:
        BadRequestError: Naming the argument that is wrong (raised locally, no status).
    """
    msgs = check_messages(messages)
    if not isinstance(model, str) or not model:
        raise BadRequestError("model: expected a non-empty model id or alias")
    if (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or max_tokens < 1
    ):
        raise BadRequestError("max_tokens: expected an integer >= 1")
    if temperature is not None and not 0 <= temperature <= 2:
        raise BadRequestError("temperature: expected a number between 0 and 2")
    return ChatRequestSpec(model, msgs, max_tokens, temperature, stream, extra)
