"""
Wire protocols: Anthropic Messages and OpenAI chat completions, encoding and decoding
one conversation model (`holysheep_client._content`).
"""

from __future__ import annotations

from ._base import ChatRequestSpec, ParsedChat, StreamDecoder, WireProtocol
from .anthropic_messages import ANTHROPIC
from .openai_chat import OPENAI

__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "ChatRequestSpec",
    "ParsedChat",
    "StreamDecoder",
    "WireProtocol",
    "protocol_for",
]


def protocol_for(name: str) -> WireProtocol:
    """
    The adapter for ``"anthropic"`` or ``"openai"``.
    """
    return ANTHROPIC if name == "anthropic" else OPENAI
