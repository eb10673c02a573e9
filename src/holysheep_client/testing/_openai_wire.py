"""
The OpenAI chat-completions wire format, as the fake provider speaks it.

Shapes follow the official SDK's types: `ChatCompletion` (``tool_calls`` with
JSON-string ``arguments``, usage with ``prompt_tokens_details.cached_tokens``
and ``completion_tokens_details.reasoning_tokens``), `ChatCompletionChunk`
(``delta.tool_calls`` with ``index``; the usage chunk of
``stream_options.include_usage``), DeepSeek-style ``reasoning_content``,
``data: [DONE]``, the ``{"error": {...}}`` body and the ``/v1/models`` list.
Requests are checked in `_openai_validate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._answer import Answer
from ._plan import StreamParts, dumps, group_events

__all__ = [
    "error_body",
    "completion_body",
    "model_body",
    "models_body",
    "stream_parts",
]

_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}

_MODEL_CREATED = 1735689600  # 2025-01-01T00:00:00Z


def error_body(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """The error body for ``status``: ``{"error": {message, type, param, code}}``."""
    kind, default_code = _TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {
        "error": {
            "message": message,
            "type": kind,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "refusal": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def _usage(answer: Answer, output_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    prompt = answer.input_tokens + answer.cache_read_tokens + answer.cache_write_tokens
    prompt_details: dict[str, int] = {
        "cached_tokens": answer.cache_read_tokens,
        "audio_tokens": 0,
    }
    if answer.cache_write_tokens:
        prompt_details["cache_write_tokens"] = answer.cache_write_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": output_tokens,
        "total_tokens": prompt + output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _message(answer: Answer) -> dict[str, Any]:
    text = "".join(p.text for p in answer.parts if p.kind == "text")
    has_text = any(p.kind == "text" for p in answer.parts)
    refusal = answer.stop_reason == "refusal"
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if refusal or not has_text else text,
        "refusal": text if refusal else None,
    }
    thinking = [p.text for p in answer.parts if p.kind == "thinking"]
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    calls = [
        {
            "id": p.call_id,
            "type": "function",
            "function": {"name": p.name, "arguments": p.text},
        }
        for p in answer.parts
        if p.kind == "tool_use"
    ]
    if calls:
        message["tool_calls"] = calls
    return message


def completion_body(
    *, cmpl_id: str, created: int, model: str, answer: Answer
) -> dict[str, Any]:
    """
    A complete ``chat.completion`` response.
    """
    return {
        "id": cmpl_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": _message(answer),
                "logprobs": None,
                "finish_reason": _FINISH[answer.stop_reason],
            }
        ],
        "usage": _usage(answer, answer.output_tokens, answer.reasoning_tokens),
        "system_fingerprint": None,
    }


def _deltas(answer: Answer) -> list[tuple[dict[str, Any], bool]]:
    """Each part's deltas; a tool call's header chunk is not a delta of its own."""
    out: list[tuple[dict[str, Any], bool]] = []
    text_key = "refusal" if answer.stop_reason == "refusal" else "content"
    index = 0
    for part in answer.parts:
        if part.kind == "thinking":
            out += [({"reasoning_content": c}, True) for c in part.chunks]
        elif part.kind == "text":
            out += [({text_key: c}, True) for c in part.chunks]
        else:
            head = {"index": index, "id": part.call_id, "type": "function",
                    "function": {"name": part.name, "arguments": ""}}  # fmt: skip
            out.append(({"tool_calls": [head]}, False))
            out += [
                ({"tool_calls": [{"index": index, "function": {"arguments": c}}]}, True)
                for c in part.chunks
            ]
            index += 1
    return out


def stream_parts(
    *, cmpl_id: str, created: int, model: str, answer: Answer, include_usage: bool
) -> StreamParts:
    """
    The ``data:`` lines of a streamed completion, grouped for fault injection.

    Every chunk carrying content, refusal, ``reasoning_content`` or a tool
    call's ``arguments`` fragment is one delta; a tool call's first chunk (its
    ``index``, ``id`` and name) travels with its first fragment.
    """

    def chunk(
        choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
    ) -> bytes:
        obj: dict[str, Any] = {
            "id": cmpl_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if include_usage:
            obj["usage"] = usage
        return b"data: " + dumps(obj) + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    has_text = any(p.kind == "text" for p in answer.parts)
    first = {"role": "assistant", "content": "" if has_text else None, "refusal": None}
    events = [(chunk([choice(d)]), is_delta) for d, is_delta in _deltas(answer)]
    events.append((chunk([choice({}, _FINISH[answer.stop_reason])]), False))
    if include_usage:
        usage = _usage(answer, answer.output_tokens, answer.reasoning_tokens)
        events.append((chunk([], usage), False))
    preamble, deltas, finish = group_events([chunk([choice(first)])], events)
    error = error_body(500, "The server had an error while processing your request.")
    return StreamParts(
        preamble=preamble,
        deltas=deltas,
        finish=finish,
        end=[b"data: [DONE]\n\n"],
        garbage=b'data: {"id": "'
        + cmpl_id.encode()
        + b'", "choices": [{"delta": {"cont\n\n',
        error=b"data: " + dumps(error) + b"\n\n",
    )


def model_body(model_id: str) -> dict[str, Any]:
    """
    One ``Model``.
    """
    return {
        "id": model_id,
        "object": "model",
        "created": _MODEL_CREATED,
        "owned_by": "fake-provider",
    }


def models_body(models: Sequence[str]) -> dict[str, Any]:
    """
    The ``/v1/models`` list.
    """
    return {"object": "list", "data": [model_body(m) for m in models]}
