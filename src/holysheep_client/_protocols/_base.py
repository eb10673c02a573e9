"""
What both wire protocols share: the parsed shapes, the adapter protocol, SSE framing,
JSON bodies, and the building of an answer's blocks from a stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .._content.blocks import Block, TextBlock, ThinkingBlock, ToolUseBlock
from .._content.events import (
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolUseDelta,
    ToolUseEnd,
    ToolUseStart,
)
from .._content.request import ChatRequestSpec
from .._content.schemas import OutputFormat
from .._models import Usage
from ..errors import APIError
from .sse import SSEDecoder, event_json

__all__ = [
    "STOP_REASONS",
    "AnswerBuilder",
    "ChatRequestSpec",
    "ParsedChat",
    "SSEDecoder",
    "StreamDecoder",
    "event_json",
    "WireProtocol",
    "json_body",
    "malformed",
    "not_an_answer",
    "parse_models",
    "token_count",
]

# No call counts more tokens than this; a larger count is a broken answer.
_MAX_TOKENS = 2**53

#: The one stop-reason vocabulary of `ChatResponse`, for both protocols.
STOP_REASONS = frozenset(
    {"end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"}
)


@dataclass(frozen=True, slots=True)
class ParsedChat:
    """
    A non-streamed answer, parsed.
    """

    content: tuple[Block, ...]
    model: str
    usage: Usage
    stop_reason: str | None
    request_id: str | None

    @property
    def text(self) -> str:
        """
        The text blocks, joined.
        """
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))


class StreamDecoder(Protocol):
    """
    Incremental decoder of one protocol's SSE stream.

    ``feed`` returns the events found in a chunk; the answer accumulates on the
    decoder (``content``, ``model``, ``usage``, ``stop_reason``), and ``ended`` turns
    true when the end marker arrives.
    """

    model: str | None
    usage: Usage
    stop_reason: str | None
    ended: bool

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Decode a chunk of bytes; returns the events in it."""
        ...

    @property
    def content(self) -> tuple[Block, ...]:
        """The blocks of the answer so far (complete tool calls only)."""
        ...

    @property
    def in_tool_call(self) -> bool:
        """Whether a tool call has started and not ended."""
        ...


class WireProtocol(Protocol):
    """
    One wire protocol: how to build requests and read answers.
    """

    name: str

    def chat_path(self) -> str:
        """The path under the base URL for chat calls."""
        ...

    def headers(self, key: str) -> dict[str, str]:
        """Auth and protocol headers."""
        ...

    def chat_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """The JSON body of a chat call (``cache``: keep cache breakpoints)."""
        ...

    def count_path(self) -> str | None:
        """The path of the token-counting endpoint; ``None`` when there is none."""
        ...

    def count_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """The JSON body of a token count."""
        ...

    def parse_count(self, body: bytes, *, provider: str) -> int:
        """The input tokens of a 2xx token-count answer."""
        ...

    def refusal(self, spec: ChatRequestSpec) -> str | None:
        """Why the protocol's API refuses ``spec`` whatever is done, or ``None``."""
        ...

    def parse_chat(
        self,
        body: bytes,
        *,
        provider: str,
        request_id: str | None,
        output: OutputFormat | None = None,
    ) -> ParsedChat:
        """Parse a 2xx chat answer."""
        ...

    def parse_error(
        self,
        status: int,
        body: bytes,
        *,
        provider: str,
        request_id: str | None,
        retry_after: float | None,
    ) -> APIError:
        """Turn an error answer into the typed error."""
        ...

    def stream_decoder(
        self, *, provider: str, output: OutputFormat | None = None
    ) -> StreamDecoder:
        """A fresh decoder for one stream."""
        ...

    def parse_models(self, body: bytes, *, provider: str) -> list[str]:
        """The model ids of a models listing."""
        ...


def json_body(body: bytes, *, provider: str, status: int = 200) -> Any:
    """
    Decode a JSON body, or raise a typed error (never ``JSONDecodeError``).

    Raises:
        APIError: The body is not valid JSON.
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise APIError(
            f"provider {provider!r} answered {status} with a body that is not valid JSON",
            status_code=status,
            provider=provider,
        ) from None


def parse_models(body: bytes, *, provider: str) -> list[str]:
    """
    The model ids of a ``/models`` page (both protocols list ``data[].id``).

    Raises:
        APIError: The body is not a models listing.
    """
    obj = json_body(body, provider=provider)
    try:
        return [str(m["id"]) for m in obj["data"]]
    except (KeyError, TypeError, AttributeError):
        raise APIError(
            f"provider {provider!r} answered a models listing without data",
            status_code=200,
            provider=provider,
        ) from None


def not_an_answer(provider: str, request_id: str | None, what: str) -> APIError:
    """
    The error for a 2xx body that is JSON but not a chat answer.
    """
    return APIError(
        f"provider {provider!r} answered 200 with a body that is not {what}",
        status_code=200,
        provider=provider,
        request_id=request_id,
    )


def token_count(value: object) -> int:
    """
    A token count from a usage field: a non-negative integer, 0 when absent.

    Raises:
        ValueError: It is not a whole number.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a token count is not a number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("a token count is not a whole number")
    if not -_MAX_TOKENS <= value <= _MAX_TOKENS:
        raise ValueError("a token count is out of range")
    return max(int(value), 0)


def malformed(provider: str, what: str) -> APIError:
    """
    The error for a stream event that cannot be decoded.

    A 2xx answer that is not a usable one is the provider's fault: before the
    first event it is retried and failed over like a malformed body; after it, a
    break (`StreamInterruptedError`).
    """
    return APIError(
        f"provider {provider!r} sent a malformed stream event ({what})",
        status_code=200,
        provider=provider,
    )


class AnswerBuilder:
    """
    The blocks of a streamed answer, built from its pieces as they come, and the
    events the caller sees for them.

    Structured output on the Anthropic protocol arrives as the input of a forced
    tool: ``output_tool`` names it, and its JSON comes out as text.

    Args:
        provider: The provider's name, for errors.
        output_tool: The forced tool that carries structured output, if any.
    """

    __slots__ = ("_blocks", "_open", "_output_tool", "_provider", "_text", "_thinking")

    def __init__(self, provider: str, output_tool: str | None = None) -> None:
        self._provider = provider
        self._output_tool = output_tool
        self._blocks: list[Block] = []
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._open: dict[Any, tuple[int, str, str, list[str]]] = {}

    def _flush(self) -> None:
        if self._thinking:
            self._blocks.append(ThinkingBlock("".join(self._thinking)))
            self._thinking = []
        if self._text:
            self._blocks.append(TextBlock("".join(self._text)))
            self._text = []

    def text(self, piece: str) -> list[StreamEvent]:
        """A piece of text."""
        return [self.text_delta(piece)]

    def text_delta(self, piece: str) -> TextDelta:
        """A piece of text, as its one event."""
        if self._thinking:
            self._flush()
        self._text.append(piece)
        return TextDelta(piece)

    def texts(self, pieces: list[str]) -> None:
        """Pieces of text in a row, whose events the caller built."""
        if self._thinking:
            self._flush()
        self._text += pieces

    def thinking(self, piece: str) -> list[StreamEvent]:
        """A piece of reasoning."""
        if self._text:
            self._flush()
        self._thinking.append(piece)
        return [ThinkingDelta(piece)]

    def signed(self, block: ThinkingBlock) -> None:
        """A whole Anthropic thinking block, with its signature, once it ended."""
        self._thinking = []
        self._blocks.append(block)

    def tool_start(self, key: Any, tool_id: str, name: str) -> list[StreamEvent]:
        """A tool call begins (``key`` is the protocol's index for it)."""
        self._flush()
        if name == self._output_tool:
            self._open[key] = (-1, tool_id, name, [])
            return []
        index = len(self._blocks) + len(
            [k for k in self._open if self._open[k][0] >= 0]
        )
        self._open[key] = (index, tool_id, name, [])
        return [ToolUseStart(index, tool_id, name)]

    def tool_json(self, key: Any, partial: str) -> list[StreamEvent]:
        """A fragment of a tool call's JSON input."""
        entry = self._open.get(key)
        if entry is None:
            raise malformed(self._provider, "tool input for no tool call")
        entry[3].append(partial)
        if entry[0] < 0:
            return self.text(partial) if partial else []
        return [ToolUseDelta(entry[0], partial)] if partial else []

    def tool_end(self, key: Any) -> list[StreamEvent]:
        """A tool call is complete: parse its input."""
        entry = self._open.pop(key, None)
        if entry is None:
            return []
        index, tool_id, name, parts = entry
        if index < 0:
            return []
        raw = "".join(parts) or "{}"
        try:
            args = json.loads(raw)
        except (ValueError, RecursionError):
            raise malformed(
                self._provider, f"tool {name!r} input is not JSON"
            ) from None
        if not isinstance(args, Mapping):
            raise malformed(self._provider, f"tool {name!r} input is not an object")
        block = ToolUseBlock(tool_id, name, dict(args))
        self._blocks.append(block)
        return [ToolUseEnd(index, block)]

    def end_all(self) -> list[StreamEvent]:
        """End every tool call still open (the protocol has no per-call end)."""
        out: list[StreamEvent] = []
        for key in list(self._open):
            out += self.tool_end(key)
        return out

    @property
    def in_tool_call(self) -> bool:
        """Whether a tool call has started and not ended."""
        return any(entry[0] >= 0 for entry in self._open.values())

    @property
    def content(self) -> tuple[Block, ...]:
        """The blocks so far, pending text and reasoning included."""
        tail: list[Block] = []
        if self._thinking:
            tail.append(ThinkingBlock("".join(self._thinking)))
        if self._text:
            tail.append(TextBlock("".join(self._text)))
        return (*self._blocks, *tail)
