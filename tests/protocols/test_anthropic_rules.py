"""
Rules of the real Anthropic API that a history from the other protocol could break,
checked on our encoded bodies against the strict fake: tool-use ids, thinking in a
tool loop, and thinking with a forced tool.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
from pydantic import BaseModel

from holysheep_client._client.spec import build_spec
from holysheep_client._content.request import ChatRequestSpec
from holysheep_client._protocols import ANTHROPIC, OPENAI
from holysheep_client.testing import FakeProvider

LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look an order up.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}
ASK = {"role": "user", "content": "Where are orders 1 and 2?"}
ID = re.compile(r"^[a-zA-Z0-9_-]+$")


class Status(BaseModel):
    """An order's status."""

    status: str


def spec(messages: list[Any], **kw: Any) -> ChatRequestSpec:
    kw.setdefault("tools", [LOOKUP])
    return build_spec(
        messages,
        model="m",
        max_tokens=4096,
        temperature=None,
        stream=False,
        extra=None,
        **kw,
    )


def sent(s: ChatRequestSpec) -> tuple[dict[str, Any], httpx2.Response]:
    """Our Anthropic body for ``s`` and the strict fake's answer to it."""
    body = ANTHROPIC.chat_body(s)
    fake = FakeProvider(reply="Both have shipped.")
    with httpx2.Client(transport=fake.sync_transport(), base_url=fake.url) as c:
        r = c.post("/messages", content=body, headers=ANTHROPIC.headers("test-key"))
    return json.loads(body), r


def openai_turn(*ids: str, reasoning: str | None = None) -> dict[str, Any]:
    """An assistant turn as an OpenAI-protocol provider answers it."""
    turn: dict[str, Any] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": i,
                "type": "function",
                "function": {
                    "name": "lookup_order",
                    "arguments": f'{{"order_id":"{i}"}}',
                },
            }
            for i in ids
        ],
    }
    if reasoning is not None:
        turn["reasoning_content"] = reasoning
    return turn


def results(*ids: str) -> list[dict[str, Any]]:
    return [{"role": "tool", "tool_call_id": i, "content": f"{i} shipped"} for i in ids]


def test_ids_anthropic_refuses_map_to_distinct_ids_for_call_and_result() -> None:
    """Ids differing only in characters Anthropic refuses stay distinct and paired there
    (the same mapping every time); the OpenAI protocol gets them unchanged."""
    ids = ("call.1", "call:1", "call_abc")
    body, r = sent(spec([ASK, openai_turn(*ids), *results(*ids)]))
    assert r.status_code == 200, r.text
    uses = [b["id"] for b in body["messages"][1]["content"]]
    answered = [b["tool_use_id"] for b in body["messages"][2]["content"]]
    assert uses == answered and len(set(uses)) == 3
    assert all(ID.match(u) for u in uses)
    assert uses[2] == "call_abc", "a safe id is kept as it is"
    again, _ = sent(spec([ASK, openai_turn(*ids), *results(*ids)]))
    assert [b["id"] for b in again["messages"][1]["content"]] == uses
    openai = json.loads(
        OPENAI.chat_body(spec([ASK, openai_turn(*ids), *results(*ids)]))
    )
    assert [c["id"] for c in openai["messages"][1]["tool_calls"]] == list(ids)
