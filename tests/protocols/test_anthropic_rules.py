"""
Rules of the real Anthropic API that a history from the other protocol could break,
checked on our encoded bodies against the strict fake: tool-use ids, thinking in a
tool loop, and thinking with a forced tool.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel

from holysheep_client import BadRequestError, ToolResult, ToolUseBlock
from holysheep_client._client.spec import build_spec
from holysheep_client._content.request import ChatRequestSpec
from holysheep_client._protocols import ANTHROPIC, OPENAI
from holysheep_client.testing import FakeProvider, FakeReply, FakeToolCall
from holysheep_client.testing._plan import signature_of

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


def test_thinking_is_left_off_in_a_loop_opened_on_the_other_protocol(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tool loop begun without signed thinking is continued with thinking off."""
    history = [
        ASK,
        openai_turn("call_1", reasoning="deepseek thoughts"),
        *results("call_1"),
    ]
    with caplog.at_level(logging.DEBUG, logger="holysheep_client"):
        body, r = sent(spec(history, reasoning="low"))
    assert r.status_code == 200, r.text
    assert "thinking" not in body
    assert body["messages"][1]["content"][0]["type"] == "tool_use"
    assert any("leaving thinking off" in rec.getMessage() for rec in caplog.records)


def test_thinking_stays_on_where_the_api_takes_it() -> None:
    """A new question, and a loop begun with signed thinking, keep thinking on."""
    signed = {
        "type": "thinking",
        "thinking": "hm",
        "signature": signature_of("hm"),
    }
    looped = [
        ASK,
        {
            "role": "assistant",
            "content": [
                signed,
                {"type": "tool_use", "id": "toolu_1", "name": "lookup_order",
                 "input": {"order_id": "1"}},
            ],
        },
        ToolResult("toolu_1", "shipped"),
        openai_turn("call_2"),  # a second round, answered on the other protocol
        *results("call_2"),
    ]  # fmt: skip
    body, r = sent(spec(looped, reasoning="low"))
    assert r.status_code == 200, r.text
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    finished = [ASK, openai_turn("call_1"), *results("call_1")]
    finished += [{"role": "assistant", "content": "Shipped."}, ASK]
    body, r = sent(spec(finished, reasoning="low"))
    assert r.status_code == 200, r.text
    assert "thinking" in body


@pytest.mark.parametrize(
    ("kw", "refused"),
    [
        pytest.param(
            {"reasoning": "low", "response_format": Status}, True, id="output"
        ),
        pytest.param({"reasoning": 2048, "tool_choice": "any"}, True, id="any"),
        pytest.param(
            {"reasoning": "low", "tool_choice": {"name": "lookup_order"}},
            True,
            id="named",
        ),
        pytest.param({"reasoning": "low", "tool_choice": "auto"}, False, id="auto"),
        pytest.param({"response_format": Status}, False, id="no-reasoning"),
    ],
)
def test_thinking_with_a_forced_tool_is_a_call_the_protocol_refuses(
    kw: dict[str, Any], refused: bool
) -> None:
    """Reasoning with a forced tool is refused by the protocol, and by the strict fake."""
    s = spec([ASK], **kw)
    assert (ANTHROPIC.refusal(s) is not None) is refused
    assert OPENAI.refusal(s) is None
    if not refused:
        assert sent(s)[1].status_code == 200
        return
    with pytest.raises(BadRequestError, match="^reasoning: "):
        ANTHROPIC.chat_body(s)
    # What the encoder would have sent, thinking added back: the fake refuses it too.
    body, _ = sent(replace(s, reasoning=None))
    body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    fake = FakeProvider()
    with httpx2.Client(transport=fake.sync_transport(), base_url=fake.url) as c:
        r = c.post("/messages", json=body, headers=ANTHROPIC.headers("test-key"))
    assert r.status_code == 400, r.text


def test_a_forced_tool_is_taken_where_thinking_is_left_off() -> None:
    """In a loop opened on the other protocol thinking is off, so structured output passes."""
    s = spec(
        [ASK, openai_turn("call_1"), *results("call_1")],
        reasoning="low",
        response_format=Status,
    )
    assert ANTHROPIC.refusal(s) is None
    body, r = sent(s)
    assert r.status_code == 200, r.text
    assert body["tool_choice"] == {"type": "any"} and "thinking" not in body


def test_the_fakes_own_loop_with_thinking_goes_back_accepted() -> None:
    """A thinking tool loop answered by the fake encodes back into a body it takes."""
    fake = FakeProvider(
        script=FakeReply(tool_calls=[FakeToolCall("lookup_order", {"order_id": "1"})])
    )
    s = spec([ASK], reasoning="low")
    with httpx2.Client(transport=fake.sync_transport(), base_url=fake.url) as c:
        first = c.post(
            "/messages",
            content=ANTHROPIC.chat_body(s),
            headers=ANTHROPIC.headers("test-key"),
        )
        parsed = ANTHROPIC.parse_chat(first.content, provider="a", request_id=None)
        call = next(b for b in parsed.content if isinstance(b, ToolUseBlock))
        history = [
            ASK,
            {"role": "assistant", "content": list(parsed.content)},
            ToolResult(call.id, "shipped"),
        ]
        body = ANTHROPIC.chat_body(spec(history, reasoning="low"))
        second = c.post(
            "/messages", content=body, headers=ANTHROPIC.headers("test-key")
        )
    assert second.status_code == 200, second.text
    assert json.loads(body)["messages"][1]["content"][0]["type"] == "thinking"


def test_reasoning_takes_top_p_only_from_095() -> None:
    """Below 0.95 top_p is refused with thinking, naming top_p; 0.95 the fake takes."""
    with pytest.raises(BadRequestError, match="top_p"):
        ANTHROPIC.chat_body(spec([ASK], reasoning="low", top_p=0.9))
    assert "reasoning_effort" in json.loads(
        OPENAI.chat_body(spec([ASK], reasoning="low", top_p=0.9))
    )
    body, r = sent(spec([ASK], reasoning="low", top_p=0.95))
    assert r.status_code == 200, r.text
    assert body["top_p"] == 0.95 and "thinking" in body
