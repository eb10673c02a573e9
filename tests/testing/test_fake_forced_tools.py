"""
A forced tool choice is answered with a tool call, as the real APIs answer it: a
script's text or JSON reply under Anthropic ``tool_choice`` ``any`` or ``tool`` (OpenAI
``required``) becomes a call, never text.
"""

from __future__ import annotations

import json
from typing import Any

from fake_helpers import ANTHROPIC_TOOL, OPENAI_TOOL, SCHEMA, completions, messages

from holysheep_client.testing import FakeProvider, json_answer

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "status": {"type": "string"}},
    "required": ["order_id", "status"],
}
ANSWER_TOOL = {"name": "structured_output", "input_schema": ANSWER_SCHEMA}
VALUE = {"order_id": "42", "status": "shipped"}


def _blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(b["type"], b.get("name")) for b in body["content"]]


def test_json_under_any_is_the_call_of_the_tool_its_keys_fit() -> None:
    """Structured output beside the caller's tools (``any``) on Anthropic."""
    fake = FakeProvider(script=json_answer(VALUE))
    r = messages(fake, tools=[ANTHROPIC_TOOL, ANSWER_TOOL], tool_choice={"type": "any"})
    body = r.json()
    assert r.status_code == 200 and body["stop_reason"] == "tool_use"
    assert _blocks(body) == [("tool_use", "structured_output")]
    assert body["content"][0]["input"] == VALUE


def test_text_under_a_named_tool_is_a_call_of_that_tool() -> None:
    """The default text reply, with ``tool_choice`` naming a tool: its call, with
    an input that fits the tool's schema."""
    r = messages(
        FakeProvider(),
        tools=[ANTHROPIC_TOOL],
        tool_choice={"type": "tool", "name": "lookup_order"},
    )
    body = r.json()
    assert _blocks(body) == [("tool_use", "lookup_order")]
    assert set(body["content"][0]["input"]) == set(SCHEMA["required"])


def test_text_under_required_is_a_tool_call_on_openai() -> None:
    r = completions(FakeProvider(), tools=[OPENAI_TOOL], tool_choice="required")
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "lookup_order"
    assert set(json.loads(call["function"]["arguments"])) == {"order_id"}


def test_auto_still_answers_text() -> None:
    r = messages(FakeProvider(), tools=[ANTHROPIC_TOOL], tool_choice={"type": "auto"})
    assert _blocks(r.json()) == [("text", None)]
