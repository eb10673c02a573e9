"""
The typed events of a stream, in order: text, tool calls (start, JSON fragments, end),
and reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .blocks import ToolUseBlock

__all__ = [
    "StreamEvent",
    "TextDelta",
    "ThinkingDelta",
    "ToolUseDelta",
    "ToolUseEnd",
    "ToolUseStart",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """
    A piece of the answer's text.

    .. versionadded:: 0.2.0
    """

    text: str


@dataclass(frozen=True, slots=True)
class ToolUseStart:
    """
    The model starts calling a tool; ``index`` is the block's place in the answer.

    .. versionadded:: 0.2.0
    """

    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolUseDelta:
    """
    A fragment of a tool call's JSON input (the fragments join to the whole input).

    .. versionadded:: 0.2.0
    """

    index: int
    partial_json: str


@dataclass(frozen=True, slots=True)
class ToolUseEnd:
    """
    A tool call is complete; ``block`` holds its parsed input.

    .. versionadded:: 0.2.0
    """

    index: int
    block: ToolUseBlock


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """
    A piece of the model's reasoning.

    .. versionadded:: 0.2.0
    """

    text: str


StreamEvent: TypeAlias = (
    TextDelta | ToolUseStart | ToolUseDelta | ToolUseEnd | ThinkingDelta
)
