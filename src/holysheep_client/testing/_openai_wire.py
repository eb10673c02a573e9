"""
The OpenAI chat-completions wire format, as the fake provider speaks it.

Shapes follow the official SDK's types: `ChatCompletion`, `ChatCompletionChunk`
(with the usage chunk of ``stream_options.include_usage``), ``data: [DONE]``,
the ``{"error": {...}}`` body and the ``/v1/models`` list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._plan import ChatRequest, StreamParts, WireError, count_words, dumps, text_of

__all__ = [
    "error_body",
    "completion_body",
    "model_body",
    "models_body",
    "parse_request",
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


def parse_request(body: Any) -> ChatRequest:
    """
    Validate a chat-completions request body (the parts the fake uses).

    Args:
        body: The decoded JSON body.

    Returns:
        The parsed request.

    Raises:
        WireError: 400 with the API's message for a malformed request.
    """
    if not isinstance(body, dict):
        raise WireError(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireError(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise WireError(400, "[] is too short - 'messages'", param="messages")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or max_tokens < 1
    ):
        raise WireError(
            400, "max_tokens must be a positive integer", param="max_tokens"
        )
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 2.0
    ):
        raise WireError(
            400,
            f"{temperature!r} is greater than the maximum of 2 - 'temperature'",
            param="temperature",
        )
    words = 0
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise WireError(
                400,
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
            )
        words += count_words(text_of(msg.get("content")))
    last = messages[-1]
    prefill = text_of(last.get("content")) if last.get("role") == "assistant" else None
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return ChatRequest(
        model=model,
        stream=body.get("stream") is True,
        max_tokens=max_tokens,
        prompt_words=words,
        prefill=prefill,
        body=body,
        include_usage=include_usage,
    )


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def completion_body(
    *,
    cmpl_id: str,
    created: int,
    model: str,
    text: str,
    truncated: bool,
    input_tokens: int,
    output_tokens: int,
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
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "length" if truncated else "stop",
            }
        ],
        "usage": _usage(input_tokens, output_tokens),
        "system_fingerprint": None,
    }


def stream_parts(
    *,
    cmpl_id: str,
    created: int,
    model: str,
    chunks: Sequence[str],
    truncated: bool,
    input_tokens: int,
    include_usage: bool,
) -> StreamParts:
    """
    The ``data:`` lines of a streamed completion, grouped for fault injection.
    """

    def chunk(
        choices: list[dict[str, Any]], usage: dict[str, int] | None = None
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

    finish = [chunk([choice({}, "length" if truncated else "stop")])]
    if include_usage:
        finish.append(chunk([], _usage(input_tokens, len(chunks))))
    error = error_body(500, "The server had an error while processing your request.")
    return StreamParts(
        preamble=[
            chunk([choice({"role": "assistant", "content": "", "refusal": None})])
        ],
        deltas=[chunk([choice({"content": c})]) for c in chunks],
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
