"""
The local token estimate (for ``tokens_per_minute`` reservations, the context-length
pre-check, and `count_tokens` where the provider has no counting endpoint), and the
context windows of the models the price table knows.

The estimate is deliberately simple and a little generous: four characters a token
(the usual rule of thumb for English and code with GPT and Claude tokenizers), four
tokens of framing per message, the tools' JSON at the same rate, and 1,600 tokens
per image (about what a 1 MP image costs on either protocol). It errs high, so a
reservation is rarely short; the client settles it with the real usage afterwards.
"""

from __future__ import annotations

import math
from typing import Final

from .._content.blocks import (
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolResult,
    ToolUseBlock,
)
from .._content.encoded import schema_json
from .._content.request import ChatRequestSpec

__all__ = ["CONTEXT_WINDOWS", "IMAGE_TOKENS", "context_window", "estimate_input_tokens"]

#: Tokens counted for one image.
IMAGE_TOKENS: Final = 1600
_PER_MESSAGE = 4
_CHARS_PER_TOKEN = 4

#: Context windows (input plus output tokens) of known model ids, from the
#: providers' model pages (read 2026-11-01).
CONTEXT_WINDOWS: Final = {
    "deepseek-v3.2": 128_000,
    "deepseek-chat": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "claude-sonnet-4-5": 200_000,
    "claude-haiku-4-5": 200_000,
}


def context_window(model: str) -> int | None:
    """
    The context window of ``model`` (a provider's model id), or ``None`` when unknown.
    """
    return CONTEXT_WINDOWS.get(model)


def _chars(block: object) -> tuple[int, int]:
    """(characters, images) of one block."""
    if isinstance(block, TextBlock):
        return len(block.text), 0
    if isinstance(block, ToolUseBlock):
        return len(block.name) + len(block.arguments()), 0
    if isinstance(block, ThinkingBlock):
        return len(block.thinking), 0
    if isinstance(block, ImageBlock):
        return 0, 1
    if isinstance(block, ToolResult):
        if isinstance(block.content, str):
            return len(block.content), 0
        parts = [_chars(b) for b in block.content]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    return 0, 0


def estimate_input_tokens(spec: ChatRequestSpec) -> int:
    """
    The local estimate of a request's input tokens; see the module docstring.
    """
    conv = spec.conversation
    chars = sum(len(b.text) for b in conv.system)
    images = 0
    for m in conv.messages:
        for b in m.content:
            c, i = _chars(b)
            chars += c
            images += i
    for t in spec.tools:
        chars += len(t.name) + len(t.description) + len(schema_json(t.input_schema))
    if spec.output is not None:
        chars += len(schema_json(spec.output.schema))
    messages = len(conv.messages) + (1 if conv.system else 0)
    return (
        math.ceil(chars / _CHARS_PER_TOKEN)
        + _PER_MESSAGE * messages
        + IMAGE_TOKENS * images
    )
