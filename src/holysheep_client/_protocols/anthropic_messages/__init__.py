"""
The Anthropic Messages wire format: ``POST {base_url}/messages`` with ``x-api-key``.
"""

from __future__ import annotations

from typing import Final

from ..._content.request import ChatRequestSpec
from ..._content.schemas import OutputFormat
from ...errors import APIError
from .._base import ParsedChat
from . import decode
from .encode import chat_body, count_body, refusal
from .stream import AnthropicStreamDecoder

__all__ = [
    "ANTHROPIC",
    "ANTHROPIC_VERSION",
    "AnthropicMessages",
    "AnthropicStreamDecoder",
]

ANTHROPIC_VERSION: Final = "2023-06-01"


class AnthropicMessages:
    """
    The Anthropic Messages protocol: headers, bodies and answers.
    """

    name = "anthropic"

    def chat_path(self) -> str:
        """``/messages``."""
        return "/messages"

    def headers(self, key: str) -> dict[str, str]:
        """``x-api-key`` and ``anthropic-version``."""
        return {
            "x-api-key": key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
        }

    def chat_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """The request body; see `encode.chat_body`."""
        return chat_body(spec, cache=cache)

    def count_path(self) -> str | None:
        """``/messages/count_tokens``."""
        return "/messages/count_tokens"

    def count_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """The token-count body; see `encode.count_body`."""
        return count_body(spec, cache=cache)

    def parse_count(self, body: bytes, *, provider: str) -> int:
        """The input tokens of a token-count answer."""
        return decode.parse_count(body, provider=provider)

    def refusal(self, spec: ChatRequestSpec) -> str | None:
        """Why this protocol cannot take ``spec``; see `encode.refusal`."""
        return refusal(spec)

    def parse_chat(
        self,
        body: bytes,
        *,
        provider: str,
        request_id: str | None,
        output: OutputFormat | None = None,
    ) -> ParsedChat:
        """A 2xx answer; see `decode.parse_chat`."""
        return decode.parse_chat(
            body, provider=provider, request_id=request_id, output=output
        )

    def parse_error(
        self,
        status: int,
        body: bytes,
        *,
        provider: str,
        request_id: str | None,
        retry_after: float | None,
    ) -> APIError:
        """An error answer's typed error."""
        return decode.parse_error(
            status,
            body,
            provider=provider,
            request_id=request_id,
            retry_after=retry_after,
        )

    def stream_decoder(
        self, *, provider: str, output: OutputFormat | None = None
    ) -> AnthropicStreamDecoder:
        """A fresh stream decoder."""
        return AnthropicStreamDecoder(provider, output)

    def parse_models(self, body: bytes, *, provider: str) -> list[str]:
        """The model ids of a models listing."""
        return decode.parse_models(body, provider=provider)


ANTHROPIC: Final = AnthropicMessages()
