"""
Which endpoint a request is for, and Anthropic's ``POST /v1/messages/count_tokens``.

The count is validated like a chat body, with the fields the real endpoint takes
(`COUNT_FIELDS`: no ``max_tokens``, sampling, ``stream`` or ``metadata``), and
answers ``{"input_tokens": n}`` with the same ``n`` a chat call of that body
reports as its input tokens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from ._anthropic_blocks import check_extra
from ._intake import parse_chat
from ._plan import WireError
from ._responses import WireProtocol

__all__ = [
    "COUNT_FIELDS",
    "Endpoint",
    "count_input_tokens",
    "endpoint_of",
    "json_or_none",
]

Endpoint = Literal["chat", "count", "models", "other"]

#: Every top-level field of ``POST /v1/messages/count_tokens`` (non-beta).
COUNT_FIELDS: frozenset[str] = frozenset(
    {
        "model", "messages", "system", "tools", "tool_choice", "thinking",
        "output_config", "cache_control", "speed",
    }
)  # fmt: skip
# Stands in for max_tokens, which a count does not take (a thinking budget is
# checked against it).
_NO_LIMIT = 2**31


def endpoint_of(path: str, hdrs: Mapping[str, str]) -> tuple[WireProtocol, Endpoint]:
    """
    The protocol and endpoint of a request path (``hdrs``: names lower-cased).
    """
    if path.endswith("/messages"):
        return "anthropic", "chat"
    if path.endswith("/messages/count_tokens"):
        return "anthropic", "count"
    if path.endswith("/chat/completions"):
        return "openai", "chat"
    anthropic = "x-api-key" in hdrs or "anthropic-version" in hdrs
    protocol: WireProtocol = "anthropic" if anthropic else "openai"
    if path.endswith("/models") or "/models/" in path:
        return protocol, "models"
    return protocol, "other"


def json_or_none(body: bytes) -> Any:
    """The decoded JSON body; ``None`` when empty or not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def count_input_tokens(
    hdrs: Mapping[str, str], parsed: Any, *, images: bool, enabled: bool
) -> int:
    """
    The input tokens of a count request.

    Args:
        hdrs: The request headers, names lower-cased.
        parsed: The decoded JSON body (``None`` when it was not JSON).
        images: Whether the model takes images.
        enabled: Whether the provider has the endpoint (a relay may not: 404).

    Raises:
        WireError: 404 without the endpoint; 400 as the real API answers.
    """
    if not enabled:
        raise WireError(404, "Invalid URL (POST /v1/messages/count_tokens)")
    if isinstance(parsed, dict):
        check_extra(parsed, COUNT_FIELDS, "")
        parsed = {**parsed, "max_tokens": _NO_LIMIT}
    return parse_chat("anthropic", hdrs, parsed, images=images).prompt_words
