"""
Recognising request errors that both protocols report in their error bodies.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import (
    APIError,
    ContentPolicyError,
    ContextLengthError,
    error_for_status,
)

__all__ = ["build_error"]

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
