"""
ChatRequestSpec: one chat request, protocol-neutral, as the client hands it to a wire
adapter; and the capabilities a request needs of its provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from .._config.provider import CAPABILITIES, Capability
from .blocks import Tool
from .normalize import Conversation
from .schemas import OutputFormat
from .tools import ToolChoice

__all__ = ["CAPABILITIES", "Capability", "ChatRequestSpec", "Reasoning"]

Reasoning: TypeAlias = Literal["low", "medium", "high"] | int


@dataclass(frozen=True, slots=True)
class ChatRequestSpec:
    """
    One chat request, checked and normalised.

    Attributes:
        model: The model id or alias asked for.
        conversation: The normalised messages.
        max_tokens: The most tokens to generate.
        temperature: Sampling temperature, or ``None``.
        stream: Whether to stream.
        extra: Raw JSON fields sent as given, untranslated (the escape hatch).
        tools: The tools the model may call.
        tool_choice: How it may call them.
        output: The structured output asked for.
        stop: Stop sequences.
        top_p: Nucleus sampling, or ``None``.
        user: An end-user id for the provider's abuse monitoring.
        reasoning: ``"low" | "medium" | "high"`` or a token budget.
        messages: The messages as the caller gave them (for hooks that record content).
    """

    model: str
    conversation: Conversation
    max_tokens: int
    temperature: float | None = None
    stream: bool = False
    extra: Mapping[str, Any] | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    output: OutputFormat | None = None
    stop: tuple[str, ...] = ()
    top_p: float | None = None
    user: str | None = None
    reasoning: Reasoning | None = None
    messages: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def needs(self) -> frozenset[Capability]:
        """
        The capabilities a provider must have to take this request.
        """
        needs: set[Capability] = set()
        if self.tools or self.conversation.has_tool_blocks():
            needs.add("tools")
        if self.conversation.has_images():
            needs.add("images")
        if self.output is not None:
            needs.add("json_schema")
        if self.reasoning is not None:
            needs.add("reasoning")
        return frozenset(needs)

    def with_model(self, model: str) -> ChatRequestSpec:
        """
        This request for another model id.
        """
        return replace(self, model=model)
