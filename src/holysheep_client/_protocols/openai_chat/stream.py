"""
Decoding OpenAI's stream: ``chat.completion.chunk`` events up to ``data: [DONE]``.
"""

from __future__ import annotations

from typing import Any

from ..._content.events import StreamEvent
from ..._content.schemas import OutputFormat
from ..._models import Usage
from .._base import AnswerBuilder, SSEDecoder, event_json, malformed
from .._errors import build_error
from .decode import stop_reason, usage_of

__all__ = ["OpenAIStreamDecoder"]


class OpenAIStreamDecoder:
    """
    Decodes one OpenAI stream into events; the answer accumulates on it.

    Tool calls arrive as ``delta.tool_calls`` fragments keyed by ``index``: the id
    and name first, the JSON ``arguments`` in pieces after; they end with the
    choice's ``finish_reason``.

    Args:
        provider: The provider's name, for errors.
        output: Structured output asked for (it streams as text on this protocol).
    """

    __slots__ = (
        "_answer",
        "_calls",
        "_provider",
        "_sse",
        "ended",
        "model",
        "stop_reason",
        "usage",
    )

    def __init__(self, provider: str, output: OutputFormat | None = None) -> None:
        self._provider = provider
        self._sse = SSEDecoder()
        self._answer = AnswerBuilder(provider)
        self._calls: set[int] = set()  # tool-call indexes seen (some relays repeat ids)
        self.model: str | None = None
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.ended = False

    @property
    def content(self) -> tuple[Any, ...]:
        """The answer's blocks so far."""
        return self._answer.content

    @property
    def in_tool_call(self) -> bool:
        """Whether a tool call has started and not ended."""
        return self._answer.in_tool_call

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """
        Decode a chunk of the stream.

        Raises:
            APIConnectionError: A malformed chunk (malformed tool-call JSON included).
            APIError: An in-stream error.
        """
        out: list[StreamEvent] = []
        for _event, data in self._sse.feed(chunk):
            if "[DONE]" in data and data.strip() == "[DONE]":
                out += self._answer.end_all()
                self.ended = True
                continue
            try:
                obj = event_json(data)
            except (ValueError, RecursionError):
                raise malformed(self._provider, "a chunk is not JSON") from None
            if type(obj) is not dict:
                raise malformed(self._provider, "a chunk is not an object")
            if isinstance(obj.get("error"), dict):
                err = obj["error"]
                raise build_error(
                    500,
                    message=str(err.get("message", "")),
                    code=err.get("code") if isinstance(err.get("code"), str) else None,
                    etype=err.get("type") if isinstance(err.get("type"), str) else None,
                    provider=self._provider,
                    request_id=None,
                    body=obj,
                    retry_after=None,
                )
            try:
                out += self._chunk(obj)
            except (KeyError, TypeError, AttributeError, ValueError):
                raise malformed(self._provider, "a chunk has the wrong shape") from None
        return out

    def _chunk(self, obj: dict[str, Any]) -> list[StreamEvent]:
        a = self._answer
        out: list[StreamEvent] = []
        if obj.get("model"):
            self.model = str(obj["model"])
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            thinking = delta.get("reasoning_content")
            if thinking:
                out += a.thinking(str(thinking))
            piece = delta.get("content")
            if piece:
                out.append(a.text_delta(piece if type(piece) is str else str(piece)))
            for call in delta.get("tool_calls") or ():
                key = int(call["index"])
                fn = call.get("function") or {}
                if key not in self._calls:
                    if not call.get("id"):
                        raise ValueError("a tool call starts without an id")
                    self._calls.add(key)
                    out += a.tool_start(key, str(call["id"]), str(fn.get("name", "")))
                if fn.get("arguments"):
                    out += a.tool_json(key, str(fn["arguments"]))
            if choice.get("finish_reason"):
                self.stop_reason = stop_reason(choice["finish_reason"])
                out += a.end_all()
        if obj.get("usage"):
            self.usage = usage_of(obj["usage"])
        return out
