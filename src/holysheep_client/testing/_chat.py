"""
FakeChat: a protocol-neutral, read-only view of one chat request the fake accepted.

A script sees the same `FakeChat` for the same conversation whichever protocol
carried it: OpenAI ``system``/``developer`` messages become `FakeChat.system`,
``tool`` messages (and a user message right after them) become one user
`FakeMessage` holding `FakeToolResult` objects, as Anthropic's ``tool_result``
blocks do, and tool-call arguments are decoded JSON objects on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "FakeChat",
    "FakeMessage",
    "FakeTool",
    "FakeToolCall",
    "FakeToolResult",
]


@dataclass(frozen=True, slots=True)
class FakeToolCall:
    """
    One tool call: in a request's history, or scripted as an answer.

    Args:
        name: The tool's name.
        input: The arguments, as a JSON object.
        id: The call id; ``None`` in a script lets the fake pick one
            (``toolu_...`` on Anthropic, ``call_...`` on OpenAI).
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class FakeToolResult:
    """
    One tool result of a request: a ``tool_result`` block or a ``tool`` message.

    Attributes:
        tool_use_id: The id of the call it answers.
        content: Its text (text parts joined).
        is_error: Anthropic's ``is_error`` flag (always ``False`` on OpenAI).
        name: The name of the tool that was called, found from the call's id.
    """

    tool_use_id: str
    content: str
    is_error: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class FakeMessage:
    """
    One turn of a request's conversation.

    Attributes:
        role: ``"user"`` or ``"assistant"``.
        text: The text of the turn (its text parts joined).
        tool_calls: The assistant's tool calls, in order.
        tool_results: The tool results the user turn carries, in order.
        images: How many images the turn carries.
        thinking: The assistant's thinking text sent back (Anthropic), if any.
    """

    role: Literal["user", "assistant"]
    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    tool_results: tuple[FakeToolResult, ...] = ()
    images: int = 0
    thinking: str | None = None


@dataclass(frozen=True, slots=True)
class FakeTool:
    """
    One tool a request offers.

    Attributes:
        name: The tool's name.
        description: Its description (empty when none was given).
        input_schema: The JSON schema of its input (``parameters`` on OpenAI).
    """

    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FakeChat:
    """
    A read-only, protocol-neutral view of one chat request, given to scripts.

    Attributes:
        protocol: ``"anthropic"`` or ``"openai"``: the wire format of the request.
        model: The requested model id.
        system: The system text (Anthropic ``system``; OpenAI ``system`` and
            ``developer`` messages, joined by blank lines).
        messages: The conversation, oldest first (see the module docstring).
        tools: The tools offered.
        tool_choice: ``None`` (not given), ``"auto"``, ``"any"`` (Anthropic
            ``any``, OpenAI ``required``), ``"none"`` or ``"tool"`` (one named
            tool forced: see `forced_tool`).
        forced_tool: The name of the tool ``tool_choice`` forces, if any.
        schema: The JSON schema asked for: OpenAI ``response_format``
            ``json_schema``, Anthropic ``output_config.format``, or the input
            schema of the tool Anthropic's ``tool_choice`` forces.
        schema_name: The schema's name (``json_schema.name``, the forced tool).
        wants_json: Whether JSON output was asked for (a schema, or OpenAI's
            ``json_object``).
        has_images: Whether any message carries an image.
        stream: Whether the request asked for a stream.
        reasoning: The reasoning asked for: Anthropic's ``thinking`` budget
            (an int) or ``"adaptive"``, Anthropic ``output_config.effort`` or
            OpenAI's ``reasoning_effort`` (a string); ``None`` when none.
        max_tokens: The output limit, when given.
        stop: The stop sequences.
        body: The decoded request body, as sent.
    """

    protocol: Literal["anthropic", "openai"]
    model: str
    system: str = ""
    messages: tuple[FakeMessage, ...] = ()
    tools: tuple[FakeTool, ...] = ()
    tool_choice: Literal["auto", "any", "none", "tool"] | None = None
    forced_tool: str | None = None
    schema: Mapping[str, Any] | None = None
    schema_name: str | None = None
    wants_json: bool = False
    has_images: bool = False
    stream: bool = False
    reasoning: str | int | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def last_user_text(self) -> str:
        """
        The text of the latest user turn ("" when there is none).
        """
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""

    @property
    def tool_results(self) -> tuple[FakeToolResult, ...]:
        """
        Every tool result of the conversation, oldest first.
        """
        return tuple(r for m in self.messages for r in m.tool_results)

    def tool(self, name: str) -> FakeTool | None:
        """
        The offered tool called ``name``, or ``None``.

        Args:
            name: The tool's name.
        """
        return next((t for t in self.tools if t.name == name), None)

    def result_for(self, name: str) -> FakeToolResult | None:
        """
        The latest result of a call to the tool ``name``, or ``None``.

        Args:
            name: The tool's name.
        """
        return next((r for r in reversed(self.tool_results) if r.name == name), None)
