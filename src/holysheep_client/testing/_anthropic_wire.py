"""
The Anthropic Messages wire format, as the fake provider speaks it.

Shapes follow the official SDK's types: `Message`, the raw stream events
(``message_start`` ... ``message_stop``), the ``{"type": "error", ...}`` error
body and the ``/v1/models`` page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._plan import ChatRequest, StreamParts, WireError, count_words, dumps, text_of

__all__ = [
    "ERROR_TYPES",
    "error_body",
    "error_type",
    "message_body",
    "model_body",
    "models_body",
    "parse_request",
    "stream_parts",
]

#: The ``error.type`` Anthropic sends for each status.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_MODEL_CREATED_AT = "2025-01-01T00:00:00Z"
# A delta event whose JSON breaks off: what a corrupted proxy buffer looks like.
_GARBAGE = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'


def error_type(status: int) -> str:
    """
    The ``error.type`` for ``status``.
    """
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    """The error body for ``status``, e.g. ``{"type": "error", "error": {...}}``."""
    return {
        "type": "error",
        "error": {"type": error_type(status), "message": message},
        "request_id": request_id,
    }


def parse_request(body: Any) -> ChatRequest:
    """
    Validate a Messages request body as the real API does (the parts the fake uses).

    Args:
        body: The decoded JSON body.

    Returns:
        The parsed request.

    Raises:
        WireError: 400 with the API's message for a malformed request.
    """
    if not isinstance(body, dict):
        raise WireError(400, "request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireError(400, "model: Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise WireError(400, "max_tokens: Field required")
    if max_tokens < 1:
        raise WireError(400, "max_tokens: Input should be greater than or equal to 1")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 1.0
    ):
        raise WireError(400, "temperature: range: 0..1")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise WireError(400, "messages: Field required")
    words = 0
    system = body.get("system")
    if system is not None:
        if not isinstance(system, str | list):
            raise WireError(400, "system: Input should be a valid string or list")
        words += count_words(text_of(system))
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise WireError(400, f"messages.{i}: Input should be a valid dictionary")
        role = msg.get("role")
        if role == "system":
            raise WireError(
                400,
                'messages: Unexpected role "system". The Messages API accepts a '
                'top-level `system` parameter, not "system" as an input message role.',
            )
        if role not in ("user", "assistant"):
            raise WireError(
                400, f"messages.{i}.role: Input should be 'user' or 'assistant'"
            )
        content = msg.get("content")
        if not isinstance(content, str | list):
            raise WireError(400, f"messages.{i}.content: Field required")
        words += count_words(text_of(content))
    last = messages[-1]
    prefill = text_of(last["content"]) if last.get("role") == "assistant" else None
    return ChatRequest(
        model=model,
        stream=body.get("stream") is True,
        max_tokens=max_tokens,
        prompt_words=words,
        prefill=prefill,
        body=body,
    )


def message_body(
    *,
    msg_id: str,
    model: str,
    text: str,
    truncated: bool,
    input_tokens: int,
    output_tokens: int,
) -> dict[str, Any]:
    """
    A complete ``Message`` response.
    """
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "max_tokens" if truncated else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def stream_parts(
    *,
    msg_id: str,
    model: str,
    chunks: Sequence[str],
    truncated: bool,
    input_tokens: int,
    request_id: str,
) -> StreamParts:
    """
    The SSE events of a streamed ``Message``, grouped for fault injection.
    """
    start = {
        "type": "message_start",
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    deltas = [
        _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": c},
            },
        )
        for c in chunks
    ]
    delta = {
        "type": "message_delta",
        "delta": {
            "stop_reason": "max_tokens" if truncated else "end_turn",
            "stop_sequence": None,
        },
        "usage": {"output_tokens": len(chunks)},
    }
    return StreamParts(
        preamble=[
            _event("message_start", start),
            _event("content_block_start", block),
            _event("ping", {"type": "ping"}),
        ],
        deltas=deltas,
        finish=[
            _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            _event("message_delta", delta),
        ],
        end=[_event("message_stop", {"type": "message_stop"})],
        garbage=_GARBAGE,
        error=_event("error", error_body(529, "Overloaded", request_id)),
    )


def model_body(model_id: str) -> dict[str, Any]:
    """
    One ``ModelInfo``.
    """
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id,
        "created_at": _MODEL_CREATED_AT,
    }


def models_body(models: Sequence[str]) -> dict[str, Any]:
    """
    The ``/v1/models`` page: every model, ``has_more`` false.
    """
    return {
        "data": [model_body(m) for m in models],
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }
