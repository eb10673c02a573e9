"""
Reading an incoming request as the real APIs do: who is calling, and the chat body.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Literal

from . import _anthropic_wire as anthropic_wire
from . import _openai_wire as openai_wire
from ._plan import ChatRequest, WireError
from ._responses import WireProtocol

__all__ = ["AuthKind", "check_auth", "parse_chat"]

AuthKind = Literal["x-api-key", "bearer"]


def check_auth(
    hdrs: Mapping[str, str], protocol: WireProtocol, api_key: str | None
) -> tuple[AuthKind | None, bool]:
    """
    How the request carries its key, and whether the key is accepted.

    Args:
        hdrs: The request headers, names lower-cased.
        protocol: The protocol of the endpoint called.
        api_key: The key to accept; ``None`` accepts any non-empty key.
    """
    bearer = hdrs.get("authorization", "")
    token = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
    # The anthropic SDK (2.x) sends its api_key as a bearer token: accept both.
    if protocol == "anthropic" and "x-api-key" in hdrs:
        kind: AuthKind | None = "x-api-key"
        key: str | None = hdrs["x-api-key"]
    elif token is not None:
        kind, key = "bearer", token
    else:
        kind, key = None, None
    if not key:
        return kind, False
    if api_key is None:
        return kind, True
    return kind, hmac.compare_digest(key.encode(), api_key.encode())


def parse_chat(
    protocol: WireProtocol, hdrs: Mapping[str, str], parsed: Any
) -> ChatRequest:
    """
    Validate a chat request of ``protocol``.

    Raises:
        WireError: 400 in the protocol's words, as the real API answers.
    """
    if protocol == "anthropic" and "anthropic-version" not in hdrs:
        raise WireError(400, "anthropic-version: header is required")
    if parsed is None:
        raise WireError(400, "The request body is not valid JSON.")
    if protocol == "anthropic":
        return anthropic_wire.parse_request(parsed)
    return openai_wire.parse_request(parsed)
