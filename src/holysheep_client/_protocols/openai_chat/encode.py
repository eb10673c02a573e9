"""
Our conversation as an OpenAI chat-completions request body.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..._content.blocks import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResult,
    ToolUseBlock,
)
from ..._content.encoded import RawJSON, dumps, schema_json
from ..._content.request import ChatRequestSpec
from ..._observe.log import logger

__all__ = [
    "JSON_INSTRUCTION",
    "MAX_CALL_ID",
    "call_id",
    "chat_body",
    "reasoning_effort",
]

#: The system line added to a ``response_format="json"`` prompt that lacks the word.
JSON_INSTRUCTION = "Respond with a JSON object."


def reasoning_effort(reasoning: str | int) -> str:
    """
    ``reasoning`` as OpenAI's ``reasoning_effort``: a token budget maps to the
    nearest effort (up to 2048 low, up to 8192 medium, above that high).
    """
    if isinstance(reasoning, str):
        return reasoning
    return "low" if reasoning <= 2048 else "medium" if reasoning <= 8192 else "high"


def _image(b: ImageBlock) -> dict[str, Any]:
    url = b.url if b.url is not None else f"data:{b.media_type};base64,{b.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _parts(blocks: list[TextBlock | ImageBlock]) -> str | list[dict[str, Any]]:
    if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
        return blocks[0].text
    return [
        {"type": "text", "text": b.text} if isinstance(b, TextBlock) else _image(b)
        for b in blocks
    ]


#: The longest tool-call id the API takes (``string_above_max_length`` above it).
MAX_CALL_ID = 40


def call_id(tool_use_id: str) -> str:
    """
    A tool-call id of at most `MAX_CALL_ID` characters, as the API takes them.

    Ids of another protocol or provider can be longer (and the Anthropic mapping of
    an unsafe id adds a digest). A longer one keeps its first 27 characters and gets
    a digest of the whole appended, the same for a call and for its result, so they
    stay paired and two ids stay two.
    """
    if len(tool_use_id) <= MAX_CALL_ID:
        return tool_use_id
    digest = hashlib.sha256(tool_use_id.encode()).hexdigest()[:12]
    return f"{tool_use_id[:27]}_{digest}"


def _tool_message(r: ToolResult) -> list[dict[str, Any]]:
    text = r.text()
    if r.is_error:
        text = f"[tool error] {text}"  # the protocol has no error flag: say it
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": call_id(r.tool_use_id), "content": text}
    ]
    images = (
        []
        if isinstance(r.content, str)
        else [b for b in r.content if isinstance(b, ImageBlock)]
    )
    if images:
        # A tool message holds text only: its images follow as the user's.
        out.append({"role": "user", "content": [_image(b) for b in images]})
    return out


def _user(m: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in m.tool_results():
        out += _tool_message(r)
    rest = [b for b in m.content if isinstance(b, TextBlock | ImageBlock)]
    if rest:
        out.append({"role": "user", "content": _parts(rest)})
    return out


def _assistant(m: Message) -> dict[str, Any]:
    text = "".join(b.text for b in m.content if isinstance(b, TextBlock))
    calls = [b for b in m.content if isinstance(b, ToolUseBlock)]
    if any(isinstance(b, ThinkingBlock) for b in m.content):
        logger.debug(
            "leaving out thinking blocks: the OpenAI protocol does not take them back"
        )
    out: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        out["tool_calls"] = [
            {
                "id": call_id(c.id),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments()},
            }
            for c in calls
        ]
    return out


def _tools_and_format(spec: ChatRequestSpec, body: dict[str, Any]) -> None:
    if spec.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": RawJSON(schema_json(t.input_schema)),
                },
            }
            for t in spec.tools
        ]
    choice = spec.tool_choice
    if choice is not None:
        if choice.kind == "tool":
            body["tool_choice"] = {
                "type": "function",
                "function": {"name": choice.name},
            }
        else:
            body["tool_choice"] = "required" if choice.kind == "any" else choice.kind
    out = spec.output
    if out is None:
        return
    if out.kind == "json":
        body["response_format"] = {"type": "json_object"}
        if "json" not in json.dumps(body["messages"]).lower():
            # JSON mode needs the word in the prompt (OpenAI and DeepSeek refuse
            # it otherwise): say what the caller asked for, in one system line.
            body["messages"].insert(0, {"role": "system", "content": JSON_INSTRUCTION})
        return
    strict = out.strict is not None
    body["response_format"] = {
        "type": "json_schema",
        "json_schema": {
            "name": out.name,
            "schema": RawJSON(
                schema_json(out.strict if out.strict is not None else out.schema)
            ),
            "strict": strict,
        },
    }


def chat_body(spec: ChatRequestSpec, *, cache: bool = True) -> bytes:
    """
    The JSON body of ``POST /chat/completions`` for ``spec``.

    Prompt caching is automatic on this protocol, so ``cache_control`` breakpoints
    have nothing to say here and ``cache`` changes nothing.
    """
    conv = spec.conversation
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": b.text} for b in conv.system
    ]
    for m in conv.messages:
        if m.role == "user":
            messages += _user(m)
        else:
            messages.append(_assistant(m))
    body: dict[str, Any] = {
        "model": spec.model,
        "messages": messages,
        "max_tokens": spec.max_tokens,
    }
    if spec.temperature is not None:
        body["temperature"] = spec.temperature
    if spec.top_p is not None:
        body["top_p"] = spec.top_p
    if spec.stop:
        body["stop"] = list(spec.stop)
    if spec.user is not None:
        body["user"] = spec.user
    if spec.reasoning is not None:
        body["reasoning_effort"] = reasoning_effort(spec.reasoning)
    _tools_and_format(spec, body)
    if spec.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if spec.extra:
        body.update(spec.extra)
    return dumps(body)
