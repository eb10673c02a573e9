"""
Reading an incoming request as the real APIs do: who is calling, and the chat body.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Literal

from ._anthropic_validate import parse_request as parse_anthropic
from ._openai_validate import parse_request as parse_openai
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
    protocol: WireProtocol,
    hdrs: Mapping[str, str],
    parsed: Any,
    *,
    images: bool = True,
) -> ChatRequest:
    """
    Validate a chat request of ``protocol``.

    Args:
        protocol: The protocol of the endpoint called.
        hdrs: The request headers, names lower-cased.
        parsed: The decoded JSON body (``None`` when it was not JSON).
        images: Whether the model takes images; without, an image is refused
            the way a text-only model (DeepSeek's) refuses it.

    Raises:
        WireError: 400 in the protocol's words, as the real API answers.
    """
    if protocol == "anthropic" and "anthropic-version" not in hdrs:
        raise WireError(400, "anthropic-version: header is required")
    if parsed is None:
        raise WireError(400, "The request body is not valid JSON.")
    chat = parse_anthropic(parsed) if protocol == "anthropic" else parse_openai(parsed)
    if not images and chat.first_image is not None:
        i = chat.first_image
        if protocol == "anthropic":
            detail = (
                f"messages[{i}].content: unknown variant `image`, expected one of"
                " `text`, `tool_use`, `tool_result`, `thinking`"
            )
        else:
            detail = f"messages[{i}]: unknown variant `image_url`, expected `text`"
        raise WireError(
            400,
            f"Failed to deserialize the JSON body into the target type: {detail}",
            code="invalid_request_error",
        )
    return chat
