"""
The Anthropic Messages wire format: headers, system hoisting, answers and SSE events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from ..errors import APIError
from ._base import (
    ChatRequestSpec,
    ParsedChat,
    SSEDecoder,
    json_body,
    malformed,
    text_of,
)
from ._errors import build_error

__all__ = ["ANTHROPIC", "AnthropicMessages", "AnthropicStreamDecoder"]

ANTHROPIC_VERSION: Final = "2023-06-01"


def _message(m: Mapping[str, Any]) -> dict[str, Any]:
    return {"role": m["role"], "content": m["content"]}


class AnthropicStreamDecoder:
    """
    Decodes ``message_start`` ... ``message_stop`` into text deltas and metadata.
    """

    __slots__ = (
        "_provider",
        "_sse",
        "ended",
        "input_tokens",
        "model",
        "output_tokens",
        "stop_reason",
    )

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._sse = SSEDecoder()
        self.model: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self.ended = False

    def feed(self, chunk: bytes) -> list[str]:
        out: list[str] = []
        for event, data in self._sse.feed(chunk):
            try:
                obj = json.loads(data)
            except ValueError:
                raise malformed(
                    self._provider, f"event {event!r} is not JSON"
                ) from None
            if not isinstance(obj, dict):
                raise malformed(self._provider, f"event {event!r} is not an object")
            kind = obj.get("type", event)
            try:
                if kind == "content_block_delta":
                    delta = obj["delta"]
                    if delta.get("type") == "text_delta":
                        out.append(str(delta["text"]))
                elif kind == "message_start":
                    msg = obj["message"]
                    self.model = msg.get("model")
                    usage = msg.get("usage") or {}
                    self.input_tokens = int(usage.get("input_tokens") or 0)
                    self.output_tokens = int(usage.get("output_tokens") or 0)
                elif kind == "message_delta":
                    self.stop_reason = obj.get("delta", {}).get("stop_reason")
                    usage = obj.get("usage") or {}
                    if usage.get("output_tokens") is not None:
                        self.output_tokens = int(usage["output_tokens"])
                    if usage.get("input_tokens") is not None:
                        self.input_tokens = int(usage["input_tokens"])
                elif kind == "message_stop":
                    self.ended = True
                elif kind == "error":
                    err = obj.get("error") or {}
                    status = 529 if err.get("type") == "overloaded_error" else 500
                    raise build_error(
                        status,
                        message=str(err.get("message", "")),
                        code=None,
                        etype=err.get("type"),
                        provider=self._provider,
                        request_id=None,
                        body=obj,
                        retry_after=None,
                    )
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                if isinstance(exc, APIError):
                    raise
                raise malformed(
                    self._provider, f"event {kind!r} lacks a field"
                ) from None
        return out


class AnthropicMessages:
    """
    ``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version``.
    """

    name = "anthropic"

    def chat_path(self) -> str:
        return "/messages"

    def headers(self, key: str) -> dict[str, str]:
        return {
            "x-api-key": key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
        }

    def chat_body(self, spec: ChatRequestSpec) -> bytes:
        system = [text_of(m["content"]) for m in spec.messages if m["role"] == "system"]
        body: dict[str, Any] = {
            "model": spec.model,
            "max_tokens": spec.max_tokens,
            "messages": [_message(m) for m in spec.messages if m["role"] != "system"],
        }
        if system:
            body["system"] = "\n\n".join(system)
        if spec.temperature is not None:
            body["temperature"] = spec.temperature
        if spec.stream:
            body["stream"] = True
        if spec.extra:
            body.update(spec.extra)
        return json.dumps(body, ensure_ascii=False).encode()

    def parse_chat(
        self, body: bytes, *, provider: str, request_id: str | None
    ) -> ParsedChat:
        obj = json_body(body, provider=provider)
        try:
            blocks = obj["content"]
            text = "".join(
                str(b.get("text", "")) for b in blocks if b.get("type") == "text"
            )
            usage = obj.get("usage") or {}
            return ParsedChat(
                text=text,
                model=str(obj["model"]),
                input_tokens=int(usage.get("input_tokens") or 0),
                output_tokens=int(usage.get("output_tokens") or 0),
                stop_reason=obj.get("stop_reason"),
                request_id=request_id or obj.get("id"),
            )
        except (KeyError, TypeError, AttributeError, ValueError):
            raise APIError(
                f"provider {provider!r} answered 200 with a body that is not a"
                " Messages response",
                status_code=200,
                provider=provider,
                request_id=request_id,
            ) from None

    def parse_error(
        self,
        status: int,
        body: bytes,
        *,
        provider: str,
        request_id: str | None,
        retry_after: float | None,
    ) -> APIError:
        message, etype, decoded = "", None, None
        try:
            decoded = json.loads(body) if body else None
            if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
                message = str(decoded["error"].get("message", ""))
                etype = decoded["error"].get("type")
        except (ValueError, UnicodeDecodeError):
            decoded = body[:200].decode("utf-8", errors="replace")
        return build_error(
            status,
            message=message,
            code=None,
            etype=etype,
            provider=provider,
            request_id=request_id,
            body=decoded,
            retry_after=retry_after,
        )

    def stream_decoder(self, *, provider: str) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(provider)

    def parse_models(self, body: bytes, *, provider: str) -> list[str]:
        obj = json_body(body, provider=provider)
        try:
            return [str(m["id"]) for m in obj["data"]]
        except (KeyError, TypeError):
            raise APIError(
                f"provider {provider!r} answered a models listing without data",
                status_code=200,
                provider=provider,
            ) from None


ANTHROPIC: Final = AnthropicMessages()
