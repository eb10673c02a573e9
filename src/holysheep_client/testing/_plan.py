"""
Protocol-neutral pieces of the fake provider: parsed chat requests and response plans.

A `ResponsePlan` is a script (status, headers, then body steps) that both the
in-process transports and the loopback server play back, so a fault behaves the
same way on either.
"""

from __future__ import annotations

import base64
import hashlib
import http
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._chat import FakeChat

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
    "group_events",
    "reason_phrase",
    "signature_of",
    "sniff_image",
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
    A chat request parsed (and validated) from either protocol.

    ``chat`` is the protocol-neutral view scripts receive; ``first_image`` the
    index of the first message carrying an image; ``thinking_on`` whether an
    Anthropic request enables ``thinking`` (so thinking blocks are answered).
    """

    model: str
    stream: bool
    max_tokens: int | None
    prompt_words: int
    prefill: str | None
    include_usage: bool = False
    body: dict[str, Any] = field(default_factory=dict)
    chat: FakeChat | None = None
    first_image: int | None = None
    thinking_on: bool = False


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


def group_events(
    head: list[bytes], events: list[tuple[bytes, bool]]
) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """
    Group a stream's events as `StreamParts` wants them: preamble, deltas, finish.

    ``events`` come after ``head`` (the preamble), each flagged as a delta or
    not. A delta group is one delta with the non-delta events just before it
    (a block's start, the previous block's stop), so a fault that cuts after N
    deltas always cuts between deltas; the non-delta events after the last
    delta are the finish.
    """
    deltas: list[bytes] = []
    pending: list[bytes] = []
    for data, is_delta in events:
        pending.append(data)
        if is_delta:
            deltas.append(b"".join(pending))
            pending = []
    return head, deltas, pending


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


def signature_of(thinking: str) -> str:
    """
    The signature the fake puts on a thinking block (and checks when it comes back).
    """
    digest = hashlib.sha256(b"holysheep-fake-thinking:" + thinking.encode()).digest()
    return "fakesig" + base64.b64encode(digest).decode()


def sniff_image(data: bytes) -> str | None:
    """The media type ``data``'s magic bytes show, or ``None`` for no known image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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
