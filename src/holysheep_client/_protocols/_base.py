"""
What both wire protocols share: message checks, SSE framing, the parsed shapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import APIConnectionError, APIError, BadRequestError

__all__ = [
    "ChatRequestSpec",
    "ParsedChat",
    "SSEDecoder",
    "StreamDecoder",
    "WireProtocol",
    "check_messages",
    "json_body",
    "text_of",
]

_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class ChatRequestSpec:
    """
    One chat request, protocol-neutral, as the client hands it to an adapter.
    """

    model: str
    messages: Sequence[Mapping[str, Any]]
    max_tokens: int
    temperature: float | None = None
    stream: bool = False
    extra: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ParsedChat:
    """
    A non-streamed answer, parsed.
    """

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    request_id: str | None


class StreamDecoder(Protocol):
    """
    Incremental decoder of one protocol's SSE stream.

    ``feed`` returns the text deltas found in a chunk; metadata accumulates on the
    decoder (``model``, ``input_tokens``, ``output_tokens``, ``stop_reason``), and
    ``ended`` turns true when the end marker arrives.
    """

    model: str | None
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    ended: bool

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk of bytes; returns the text deltas in it."""
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

    def chat_body(self, spec: ChatRequestSpec) -> bytes:
        """The JSON body of a chat call."""
        ...

    def parse_chat(
        self, body: bytes, *, provider: str, request_id: str | None
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

    def stream_decoder(self, *, provider: str) -> StreamDecoder:
        """A fresh decoder for one stream."""
        ...

    def parse_models(self, body: bytes, *, provider: str) -> list[str]:
        """The model ids of a models listing."""
        ...


def check_messages(messages: object) -> list[Mapping[str, Any]]:
    """
    Validate chat messages (OpenAI style: ``{"role", "content"}``).

    Raises:
        BadRequestError: Naming the first bad message and what is wrong with it.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise BadRequestError(
            "messages: expected a list of {'role', 'content'} mappings"
        )
    if not messages:
        raise BadRequestError("messages: expected at least one message, found none")
    out: list[Mapping[str, Any]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise BadRequestError(f"messages[{i}]: expected a mapping")
        role = m.get("role")
        if role not in _ROLES:
            raise BadRequestError(
                f"messages[{i}].role: expected 'system', 'user' or 'assistant'"
            )
        content = m.get("content")
        if not isinstance(content, str | list):
            raise BadRequestError(
                f"messages[{i}].content: expected a string or a list of content blocks"
            )
        out.append(m)
    if all(m["role"] == "system" for m in out):
        raise BadRequestError(
            "messages: expected a user message besides the system ones"
        )
    return out


def text_of(content: str | list[Any]) -> str:
    """
    The text of a message content (a string, or text blocks joined).
    """
    if isinstance(content, str):
        return content
    return "".join(
        b.get("text", "")
        for b in content
        if isinstance(b, Mapping) and b.get("type") == "text"
    )


def json_body(body: bytes, *, provider: str, status: int = 200) -> Any:
    """
    Decode a JSON body, or raise a typed error (never ``JSONDecodeError``).

    Raises:
        APIError: The body is not valid JSON.
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise APIError(
            f"provider {provider!r} answered {status} with a body that is not valid JSON",
            status_code=status,
            provider=provider,
        ) from None


class SSEDecoder:
    """
    Server-sent events framing: bytes in, ``(event, data)`` pairs out.

    Handles CRLF and LF line ends, comments, multi-line ``data``, and chunks that
    split lines anywhere.
    """

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str | None, str]]:
        """
        Decode a chunk; returns the complete events in it.
        """
        self._buf += chunk
        out: list[tuple[str | None, str]] = []
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                return out
            raw, self._buf = self._buf[:nl], self._buf[nl + 1 :]
            line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
            if not line:
                if self._data or self._event is not None:
                    out.append((self._event, "\n".join(self._data)))
                self._event, self._data = None, []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value


def malformed(provider: str, what: str) -> APIConnectionError:
    """
    The error for a stream event that cannot be decoded (treated as a break).
    """
    return APIConnectionError(
        f"provider {provider!r} sent a malformed stream event ({what})",
        provider=provider,
    )
