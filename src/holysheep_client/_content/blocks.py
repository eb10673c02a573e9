"""
The conversation's building blocks: frozen, protocol-neutral, public.

A conversation written with these (or with either protocol's dicts, mixed freely) runs
on both protocols: each wire adapter encodes and decodes these blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "Block",
    "ImageBlock",
    "Message",
    "Role",
    "TextBlock",
    "ThinkingBlock",
    "Tool",
    "ToolResult",
    "ToolUseBlock",
]

Role: TypeAlias = Literal["user", "assistant"]

#: Image media types both protocols take.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass(frozen=True, slots=True)
class Tool:
    """
    A tool the model may call.

    Args:
        name: 1-64 letters, digits, ``_`` or ``-``.
        description: What it does, for the model.
        input_schema: The JSON schema of its input (an object schema).
        cache_control: An Anthropic cache breakpoint, e.g. ``{"type": "ephemeral"}``.

    .. versionadded:: 0.2.0
    """

    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    _: KW_ONLY
    cache_control: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TextBlock:
    """
    Text, from the caller or the model.

    .. versionadded:: 0.2.0
    """

    text: str
    _: KW_ONLY
    cache_control: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ImageBlock:
    """
    An image: base64 ``data`` or a ``url``, exactly one.

    Args:
        media_type: ``image/jpeg``, ``image/png``, ``image/gif`` or ``image/webp``
            (for a URL it may be left empty).
        data: The image, base64-encoded.
        url: An ``https://`` (or ``http://``) URL of the image.

    .. versionadded:: 0.2.0
    """

    media_type: str = ""
    data: str | None = None
    url: str | None = None
    _: KW_ONLY
    cache_control: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """
    A call of a tool by the model; ``input`` is always an object.

    .. versionadded:: 0.2.0
    """

    id: str
    name: str
    input: Mapping[str, Any] = field(default_factory=dict)

    def arguments(self) -> str:
        """
        ``input`` as the JSON string the OpenAI protocol carries.
        """
        return json.dumps(self.input, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ToolResult:
    """
    What a tool returned, for the model's next turn.

    Args:
        tool_use_id: The id of the `ToolUseBlock` it answers.
        content: Text, or text and image blocks.
        is_error: The tool failed; ``content`` says how.
        cache_control: An Anthropic cache breakpoint.

    .. versionadded:: 0.2.0
    """

    tool_use_id: str
    content: str | tuple[TextBlock | ImageBlock, ...] = ""
    is_error: bool = False
    _: KW_ONLY
    cache_control: Mapping[str, Any] | None = None

    def text(self) -> str:
        """
        The text of ``content``.
        """
        if isinstance(self.content, str):
            return self.content
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    """
    The model's reasoning.

    Anthropic's thinking blocks carry a ``signature`` and must go back unchanged in
    a tool loop; reasoning of the OpenAI protocol (DeepSeek's ``reasoning_content``)
    has none and is never sent back. ``redacted`` holds the opaque data of an
    Anthropic ``redacted_thinking`` block.

    .. versionadded:: 0.2.0
    """

    thinking: str
    signature: str | None = None
    _: KW_ONLY
    redacted: str | None = None


Block: TypeAlias = TextBlock | ImageBlock | ToolUseBlock | ToolResult | ThinkingBlock


@dataclass(frozen=True, slots=True)
class Message:
    """
    One turn of the normalised conversation (what the wire adapters encode).
    """

    role: Role
    content: tuple[Block, ...]

    def tool_uses(self) -> list[ToolUseBlock]:
        """
        The tool calls of this turn.
        """
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    def tool_results(self) -> list[ToolResult]:
        """
        The tool results of this turn.
        """
        return [b for b in self.content if isinstance(b, ToolResult)]
