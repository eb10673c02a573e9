"""
Wire protocols: Anthropic Messages and OpenAI chat completions.
"""

from __future__ import annotations

from ._base import (
    ChatRequestSpec,
    ParsedChat,
    StreamDecoder,
    WireProtocol,
    check_messages,
)
from .anthropic_messages import ANTHROPIC
from .openai_chat import OPENAI

__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "ChatRequestSpec",
    "ParsedChat",
    "StreamDecoder",
    "WireProtocol",
    "check_messages",
    "protocol_for",
]


def protocol_for(name: str) -> WireProtocol:
    """
    The adapter for ``"anthropic"`` or ``"openai"``.
    """
    return ANTHROPIC if name == "anthropic" else OPENAI
