"""
Recognising request errors that both protocols report in their error bodies.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyError,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = ["build_error", "error_for_status"]

# Anthropic has no error code for these, only its message wording; OpenAI has codes.
_CONTEXT = re.compile(
    r"prompt is too long|context[ _-]?(length|window)|maximum context|too many tokens"
    r"|exceed(s|ed)? (the )?context limit",
    re.IGNORECASE,
)
_POLICY = re.compile(r"content[ _-]?(policy|filter|management)", re.IGNORECASE)
_CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_POLICY_CODES = frozenset({"content_policy_violation", "content_filter"})


def build_error(
    status: int,
    *,
    message: str,
    code: str | None,
    etype: str | None,
    provider: str,
    request_id: str | None,
    body: Any,
    retry_after: float | None,
) -> APIError:
    """
    The typed error for an error answer, recognising context-length and policy refusals.
    """
    text = (
        f"provider {provider!r} answered {status}: {message}"
        if message
        else (f"provider {provider!r} answered {status}")
    )
    kw: dict[str, Any] = {
        "status_code": status,
        "provider": provider,
        "request_id": request_id,
        "body": body,
    }
    if status in (400, 413, 422):
        if code in _CONTEXT_CODES or _CONTEXT.search(message or ""):
            return ContextLengthError(text, **kw)
        if (
            code in _POLICY_CODES
            or (etype or "").startswith("content_policy")
            or _POLICY.search(message or "")
        ):
            return ContentPolicyError(text, reason=message or None, **kw)
    extra = {k: v for k, v in kw.items() if k != "status_code"}
    if status == 413:
        return error_for_status(400, text, **extra)
    return error_for_status(status, text, retry_after=retry_after, **extra)


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_for_status(
    status_code: int,
    message: str,
    *,
    provider: str | None = None,
    request_id: str | None = None,
    body: Any = None,
    retry_after: float | None = None,
) -> APIError:
    """
    Build the typed error for an HTTP error status.

    Args:
        status_code: The HTTP status the provider answered with.
        message: The provider's error message (never a header value).
        provider: The provider's name.
        request_id: The provider's request id.
        body: The decoded error body.
        retry_after: The wait the provider asked for, for 429s.

    Returns:
        An instance of the most specific `APIError` subclass for the status.
    """
    kw: dict[str, Any] = {
        "status_code": status_code,
        "provider": provider,
        "request_id": request_id,
        "body": body,
    }
    cls = _STATUS_CLASSES.get(status_code)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kw)
    if cls is not None:
        return cls(message, **kw)
    if status_code >= 500:
        return ServerError(message, **kw)
    return APIError(message, **kw)
