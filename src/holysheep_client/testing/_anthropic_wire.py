"""
The Anthropic Messages wire format, as the fake provider speaks it.

Shapes follow the official SDK's types: `Message` (text, ``thinking`` and
``tool_use`` blocks, usage with cache tokens), the raw stream events
(``message_start`` ... ``message_stop``, with ``text_delta``,
``thinking_delta``, ``signature_delta`` and ``input_json_delta``), the
``{"type": "error", ...}`` error body and the ``/v1/models`` page. Requests are
checked in `_anthropic_validate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._answer import Answer, Part
from ._plan import StreamParts, dumps, group_events

__all__ = [
    "ERROR_TYPES",
    "error_body",
    "error_type",
    "message_body",
    "model_body",
    "models_body",
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


def _usage(answer: Answer, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": answer.input_tokens,
        "cache_creation_input_tokens": answer.cache_write_tokens,
        "cache_read_input_tokens": answer.cache_read_tokens,
        "output_tokens": output_tokens,
    }


def _block(part: Part, *, streamed: bool) -> dict[str, Any] | None:
    if part.kind == "text":
        return {"type": "text", "text": "" if streamed else part.text}
    if part.kind == "thinking":
        return {
            "type": "thinking",
            "thinking": "" if streamed else part.text,
            "signature": "" if streamed else part.signature,
        }
    if streamed:
        return {"type": "tool_use", "id": part.call_id, "name": part.name, "input": {}}
    if not part.complete:
        return None  # a tool call cut by max_tokens has no valid input to show
    return {
        "type": "tool_use",
        "id": part.call_id,
        "name": part.name,
        "input": json.loads(part.text),
    }


def message_body(*, msg_id: str, model: str, answer: Answer) -> dict[str, Any]:
    """
    A complete ``Message`` response.
    """
    blocks = [_block(p, streamed=False) for p in answer.parts]
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [b for b in blocks if b is not None],
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
        "usage": _usage(answer, answer.output_tokens),
    }


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def _delta(index: int, delta: dict[str, Any]) -> bytes:
    return _event(
        "content_block_delta",
        {"type": "content_block_delta", "index": index, "delta": delta},
    )


def _block_events(index: int, part: Part) -> list[tuple[bytes, bool]]:
    if part.kind == "text":
        out = [
            (_delta(index, {"type": "text_delta", "text": c}), True)
            for c in part.chunks
        ]
    elif part.kind == "thinking":
        out = [
            (_delta(index, {"type": "thinking_delta", "thinking": c}), True)
            for c in part.chunks
        ]
        signature = {"type": "signature_delta", "signature": part.signature}
        out.append((_delta(index, signature), True))
    else:
        out = [
            (_delta(index, {"type": "input_json_delta", "partial_json": c}), True)
            for c in part.chunks
        ]
    stop = {"type": "content_block_stop", "index": index}
    return [*out, (_event("content_block_stop", stop), False)]


def _start(index: int, part: Part) -> bytes:
    block = _block(part, streamed=True)
    return _event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def stream_parts(
    *, msg_id: str, model: str, answer: Answer, request_id: str
) -> StreamParts:
    """
    The SSE events of a streamed ``Message``, grouped for fault injection.

    Every ``content_block_delta`` (text, thinking, signature, tool input JSON)
    is one delta; a block's ``content_block_start`` travels with its first delta.
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
            "usage": _usage(answer, 1),
        },
    }
    parts = answer.parts
    head = [_event("message_start", start)]
    events: list[tuple[bytes, bool]] = []
    for index, part in enumerate(parts):
        if index == 0:
            head += [_start(0, part), _event("ping", {"type": "ping"})]
        else:
            events.append((_start(index, part), False))
        events += _block_events(index, part)
    if not parts:
        head.append(_event("ping", {"type": "ping"}))
    delta = {
        "type": "message_delta",
        "delta": {
            "stop_reason": answer.stop_reason,
            "stop_sequence": answer.stop_sequence,
        },
        "usage": {"output_tokens": answer.output_tokens},
    }
    events.append((_event("message_delta", delta), False))
    preamble, deltas, finish = group_events(head, events)
    return StreamParts(
        preamble=preamble,
        deltas=deltas,
        finish=finish,
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
