"""
The OpenAI chat-completions wire format: Bearer auth, usage mapping, SSE chunks.
"""

from __future__ import annotations

import json
from typing import Any, Final

from ..errors import APIError
from ._base import ChatRequestSpec, ParsedChat, SSEDecoder, json_body, malformed
from ._errors import build_error

__all__ = ["OPENAI", "OpenAIChat", "OpenAIStreamDecoder"]

# finish_reason -> the Anthropic stop_reason vocabulary ChatResponse uses.
_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


class OpenAIStreamDecoder:
    """
    Decodes ``chat.completion.chunk`` events up to ``data: [DONE]``.
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
        for _event, data in self._sse.feed(chunk):
            if data.strip() == "[DONE]":
                self.ended = True
                continue
            try:
                obj = json.loads(data)
            except ValueError:
                raise malformed(self._provider, "a chunk is not JSON") from None
            if not isinstance(obj, dict):
                raise malformed(self._provider, "a chunk is not an object")
            if isinstance(obj.get("error"), dict):
                err = obj["error"]
                raise build_error(
                    500,
                    message=str(err.get("message", "")),
                    code=err.get("code"),
                    etype=err.get("type"),
                    provider=self._provider,
                    request_id=None,
                    body=obj,
                    retry_after=None,
                )
            try:
                if obj.get("model"):
                    self.model = str(obj["model"])
                for choice in obj.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        out.append(str(piece))
                    if choice.get("finish_reason"):
                        reason = str(choice["finish_reason"])
                        self.stop_reason = _STOP.get(reason, reason)
                usage = obj.get("usage")
                if usage:
                    self.input_tokens = int(usage.get("prompt_tokens") or 0)
                    self.output_tokens = int(usage.get("completion_tokens") or 0)
            except (TypeError, AttributeError, ValueError):
                raise malformed(self._provider, "a chunk has the wrong shape") from None
        return out


class OpenAIChat:
    """
    ``POST {base_url}/chat/completions`` with ``Authorization: Bearer``.
    """

    name = "openai"

    def chat_path(self) -> str:
        return "/chat/completions"

    def headers(self, key: str) -> dict[str, str]:
        return {
            "authorization": f"Bearer {key}",
            "content-type": "application/json",
            "accept": "application/json",
        }

    def chat_body(self, spec: ChatRequestSpec) -> bytes:
        body: dict[str, Any] = {
            "model": spec.model,
            "messages": [
                {"role": m["role"], "content": m["content"]} for m in spec.messages
            ],
            "max_tokens": spec.max_tokens,
        }
        if spec.temperature is not None:
            body["temperature"] = spec.temperature
        if spec.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if spec.extra:
            body.update(spec.extra)
        return json.dumps(body, ensure_ascii=False).encode()

    def parse_chat(
        self, body: bytes, *, provider: str, request_id: str | None
    ) -> ParsedChat:
        obj = json_body(body, provider=provider)
        try:
            choice = obj["choices"][0]
            content = choice["message"].get("content") or ""
            usage = obj.get("usage") or {}
            reason = choice.get("finish_reason")
            return ParsedChat(
                text=str(content),
                model=str(obj["model"]),
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
                stop_reason=_STOP.get(reason, reason) if reason else None,
                request_id=request_id or obj.get("id"),
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            raise APIError(
                f"provider {provider!r} answered 200 with a body that is not a chat"
                " completion",
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
        message, code, etype, decoded = "", None, None, None
        try:
            decoded = json.loads(body) if body else None
            if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
                err = decoded["error"]
                message = str(err.get("message", ""))
                code, etype = err.get("code"), err.get("type")
        except (ValueError, UnicodeDecodeError):
            decoded = body[:200].decode("utf-8", errors="replace")
        return build_error(
            status,
            message=message,
            code=code if isinstance(code, str) else None,
            etype=etype if isinstance(etype, str) else None,
            provider=provider,
            request_id=request_id,
            body=decoded,
            retry_after=retry_after,
        )

    def stream_decoder(self, *, provider: str) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder(provider)

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


OPENAI: Final = OpenAIChat()
