"""
Decoding Anthropic's stream: ``message_start`` ... ``message_stop`` into typed events.
"""

from __future__ import annotations

import re
from typing import Any

from ..._content.blocks import ThinkingBlock
from ..._content.events import StreamEvent, TextDelta
from ..._content.schemas import OUTPUT_TOOL, OutputFormat
from ..._models import Usage
from .._base import AnswerBuilder, SSEDecoder, event_json, malformed, token_count
from .._errors import build_error
from ..sse import raw_json
from .decode import stop_reason, usage_of

__all__ = ["AnthropicStreamDecoder"]

#: A text delta exactly as the API sends it (compact JSON, these keys in this
#: order) whose text has no escape and no control character: the JSON can only
#: decode to that dict with that text, so the text is taken without decoding it.
#: Anything else (an escape, spaces, another order) takes the JSON path.
_PLAIN_TEXT_DELTA = re.compile(
    r'\{"type":"content_block_delta","index":(?:0|[1-9][0-9]*),'
    r'"delta":\{"type":"text_delta","text":"([^"\\\x00-\x1f]*)"\}\}'
).fullmatch


class AnthropicStreamDecoder:
    """
    Decodes one Anthropic stream into events; the answer accumulates on it.

    Args:
        provider: The provider's name, for errors.
        output: Structured output asked for (its forced tool streams as text).
    """

    __slots__ = (
        "_answer",
        "_kinds",
        "_output",
        "_provider",
        "_sig",
        "_sse",
        "_think",
        "ended",
        "model",
        "stop_reason",
        "usage",
    )

    def __init__(self, provider: str, output: OutputFormat | None = None) -> None:
        self._provider = provider
        self._output = output
        self._sse = SSEDecoder()
        self._answer = AnswerBuilder(
            provider, OUTPUT_TOOL if output is not None else None
        )
        self._kinds: dict[int, str] = {}
        self._think: dict[int, list[str]] = {}
        self._sig: dict[int, str] = {}
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
            APIConnectionError: A malformed event.
            APIError: An in-stream error event.
        """
        out: list[StreamEvent] = []
        # This chunk's text pieces, handed to the answer in one go.
        texts: list[str] = []
        for event, data in self._sse.feed(chunk):
            plain = _PLAIN_TEXT_DELTA(data)
            if plain is not None:  # the hot path, one per delta
                text = plain[1]
                texts.append(text)
                out.append(TextDelta(text))
                continue
            try:
                obj, end = raw_json(data)
            except (ValueError, RecursionError):
                end = -1
            if end != len(data):
                try:
                    obj = event_json(data)
                except (ValueError, RecursionError):
                    raise malformed(
                        self._provider, f"event {event!r} is not JSON"
                    ) from None
            match obj:
                case {
                    "type": "content_block_delta",
                    "index": int(),
                    "delta": {"type": "text_delta", "text": str() as text},
                }:
                    # A well-formed text delta in any other spelling.
                    texts.append(text)
                    out.append(TextDelta(text))
                    continue
                case dict():
                    kind = obj.get("type", event)
                case _:
                    raise malformed(self._provider, f"event {event!r} is not an object")
            if texts:
                self._answer.texts(texts)
                texts = []
            try:
                out += self._event(kind, obj)
            except (KeyError, TypeError, AttributeError, ValueError):
                raise malformed(
                    self._provider, f"event {kind!r} lacks a field"
                ) from None
        if texts:
            self._answer.texts(texts)
        return out

    def _event(self, kind: object, obj: dict[str, Any]) -> list[StreamEvent]:
        a = self._answer
        if kind == "content_block_delta":
            i, delta = int(obj["index"]), obj["delta"]
            dtype = delta.get("type")
            if dtype == "text_delta":
                return a.text(str(delta["text"]))
            if dtype == "input_json_delta":
                return a.tool_json(i, str(delta.get("partial_json", "")))
            if dtype == "thinking_delta":
                self._think.setdefault(i, []).append(str(delta["thinking"]))
                return a.thinking(str(delta["thinking"]))
            if dtype == "signature_delta":
                self._sig[i] = self._sig.get(i, "") + str(delta["signature"])
            return []
        if kind == "content_block_start":
            i, block = int(obj["index"]), obj["content_block"]
            self._kinds[i] = str(block["type"])
            if block["type"] == "tool_use":
                return a.tool_start(i, str(block["id"]), str(block["name"]))
            if block["type"] == "text" and block.get("text"):
                return a.text(str(block["text"]))
            return []
        if kind == "content_block_stop":
            i = int(obj["index"])
            kind_of = self._kinds.pop(i, None)
            if kind_of == "tool_use":
                return a.tool_end(i)
            if kind_of == "thinking":
                text = "".join(self._think.pop(i, []))
                a.signed(ThinkingBlock(text, self._sig.pop(i, None)))
            return []
        if kind == "message_start":
            msg = obj["message"]
            self.model = msg.get("model")
            self.usage = usage_of(msg.get("usage") or {})
        elif kind == "message_delta":
            self.stop_reason = stop_reason(
                obj.get("delta", {}).get("stop_reason"), self._output, self.content
            )
            self._delta_usage(obj.get("usage") or {})
        elif kind == "message_stop":
            self.ended = True
        elif kind == "error":
            err = obj.get("error") or {}
            etype = err.get("type")
            raise build_error(
                529 if etype == "overloaded_error" else 500,
                message=str(err.get("message", "")),
                code=None,
                etype=etype if isinstance(etype, str) else None,
                provider=self._provider,
                request_id=None,
                body=obj,
                retry_after=None,
            )
        return []

    def _delta_usage(self, usage: dict[str, Any]) -> None:
        u = self.usage
        read = u.cache_read_input_tokens
        write = u.cache_creation_input_tokens
        if usage.get("cache_read_input_tokens") is not None:
            read = token_count(usage["cache_read_input_tokens"])
        if usage.get("cache_creation_input_tokens") is not None:
            write = token_count(usage["cache_creation_input_tokens"])
        uncached = (
            u.input_tokens - u.cache_read_input_tokens - u.cache_creation_input_tokens
        )
        if usage.get("input_tokens") is not None:
            uncached = token_count(usage["input_tokens"])
        out = u.output_tokens
        if usage.get("output_tokens") is not None:
            out = token_count(usage["output_tokens"])
        self.usage = Usage(uncached + read + write, out, read, write)
