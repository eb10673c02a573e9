"""
The OpenAI chat-completions wire format: ``POST {base_url}/chat/completions``, Bearer auth.
"""

from __future__ import annotations

from typing import Final

from ..._content.request import ChatRequestSpec
from ..._content.schemas import OutputFormat
from ...errors import APIError
from .._base import ParsedChat
from . import decode
from .encode import chat_body
from .stream import OpenAIStreamDecoder

__all__ = ["OPENAI", "OpenAIChat", "OpenAIStreamDecoder"]


class OpenAIChat:
    """
    The OpenAI chat-completions protocol: headers, bodies and answers.
    """

    name = "openai"

    def chat_path(self) -> str:
        """``/chat/completions``."""
        return "/chat/completions"

    def headers(self, key: str) -> dict[str, str]:
        """``Authorization: Bearer``."""
        return {
            "authorization": f"Bearer {key}",
            "content-type": "application/json",
            "accept": "application/json",
        }

    def chat_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """The request body; see `encode.chat_body`."""
        return chat_body(spec, cache=cache)

    def count_path(self) -> str | None:
        """``None``: the protocol has no token-counting endpoint."""
        return None

    def count_body(self, spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
        """Never sent (no endpoint); the chat body, for the protocol's shape."""
        return chat_body(spec, cache=cache)

    def parse_count(self, body: bytes, *, provider: str) -> int:
        """Never called (no endpoint)."""
        raise APIError(
            f"provider {provider!r}: the OpenAI protocol has no token count",
            provider=provider,
        )

    def refusal(self, spec: ChatRequestSpec) -> str | None:
        """``None``: this protocol takes every request the client builds."""
        return None

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
    ) -> OpenAIStreamDecoder:
        """A fresh stream decoder."""
        return OpenAIStreamDecoder(provider, output)

    def parse_models(self, body: bytes, *, provider: str) -> list[str]:
        """The model ids of a models listing."""
        return decode.parse_models(body, provider=provider)


OPENAI: Final = OpenAIChat()
