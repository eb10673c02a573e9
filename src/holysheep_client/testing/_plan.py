"""
Protocol-neutral pieces of the fake provider: parsed chat requests and response plans.

A `ResponsePlan` is a script (status, headers, then body steps) that both the
in-process transports and the loopback server play back, so a fault behaves the
same way on either.
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatRequest",
    "Cut",
    "Pause",
    "ResponsePlan",
    "Send",
    "Step",
    "StreamParts",
    "WireError",
    "chunk_text",
    "count_words",
    "dumps",
    "reason_phrase",
    "text_of",
]


@dataclass(frozen=True, slots=True)
class Send:
    """
    Send these body bytes (one flush, one chunk).
    """

    data: bytes


@dataclass(frozen=True, slots=True)
class Pause:
    """
    Send nothing for ``seconds``.
    """

    seconds: float


@dataclass(frozen=True, slots=True)
class Cut:
    """
    Close the connection here, leaving the body incomplete.
    """


Step = Send | Pause | Cut


@dataclass(slots=True)
class ResponsePlan:
    """
    What to answer: status and headers after ``delay``, then the body ``steps``.

    ``drop`` closes the connection without any response. ``streaming`` bodies are
    sent chunked; others carry ``content_length`` (the full length, even when a
    `Cut` step ends the body early). ``drip_head`` sends the status line and
    headers one byte at a time, at that many bytes per second.
    """

    status: int
    headers: list[tuple[str, str]]
    steps: list[Step] = field(default_factory=list)
    streaming: bool = False
    delay: float = 0.0
    drop: bool = False
    content_length: int | None = None
    drip_head: float | None = None


@dataclass(slots=True)
class ChatRequest:
    """
    A chat request parsed from either protocol.
    """

    model: str
    stream: bool
    max_tokens: int | None
    prompt_words: int
    prefill: str | None
    include_usage: bool = False
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StreamParts:
    """
    The SSE events of one streamed answer, grouped so faults can cut between them.

    ``finish`` carries the stop/finish reason; ``end`` is the end marker
    (``message_stop`` or ``[DONE]``); ``garbage`` is a malformed event and
    ``error`` an in-stream error event, both used only by faults.
    """

    preamble: list[bytes]
    deltas: list[bytes]
    finish: list[bytes]
    end: list[bytes]
    garbage: bytes
    error: bytes


class WireError(Exception):
    """
    A request the fake rejects with a protocol-shaped error.

    Args:
        status: The HTTP status to answer with.
        message: The error message (never contains a key).
        code: A protocol-specific error code, e.g. ``context_length_exceeded``.
        param: The offending parameter (OpenAI's ``param``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


def dumps(obj: Any) -> bytes:
    """
    Compact JSON bytes.
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


_TOKEN = re.compile(r"\s*\S+")


def chunk_text(text: str) -> list[str]:
    """
    Split ``text`` into word chunks that keep their leading spaces, like LLM tokens.

    ``"".join(chunk_text(t)) == t`` always holds; trailing whitespace joins the
    last chunk, so a prefix of the chunks never ends with a space.
    """
    chunks = _TOKEN.findall(text)
    if not chunks:
        return [text] if text else []
    rest = text[sum(len(c) for c in chunks) :]
    chunks[-1] += rest
    return chunks


def count_words(text: str) -> int:
    """
    The number of whitespace-separated words: the fake's token count.
    """
    return len(text.split())


def text_of(content: Any) -> str:
    """
    The text of a message ``content``: a string, or a list of content blocks.

    Non-text blocks are ignored; a block without ``text`` counts as empty.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type", "text") == "text"
        )
    return ""


def reason_phrase(status: int) -> str:
    """
    The HTTP reason phrase for ``status`` (``Overloaded`` for Anthropic's 529).
    """
    if status == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
