"""
A customer-service bot's tool loop that survives its vendor going down mid-loop.

The bot answers order questions with one tool, ``lookup_order``. The legacy vendor
(OpenAI protocol) serves it; the holysheep relay (Anthropic protocol) stands by.
While the bot runs the tool for the second question, the legacy vendor goes down:
the turn carrying the tool's result fails over to holysheep, which gets the same
conversation in its own protocol (the tool call with its id as a ``tool_use`` block,
the result as a ``tool_result``) and finishes the answer; the rest of the chat stays
there. Both providers are the built-in fake: no network, no keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from holysheep_client import (
    BreakerConfig,
    Client,
    ClientConfig,
    ProviderConfig,
    RetryConfig,
    Tool,
    ToolResult,
)
from holysheep_client.testing import (
    FakeChat,
    FakeProvider,
    FakeReply,
    FakeToolCall,
    Fault,
)

ORDERS = {
    "A1001": "shipped on 28 April, arriving on 2 May",
    "B2002": "packed, leaving the warehouse today",
    "C3003": "delivered on 25 April, signed for by J. Doe",
}
LOOKUP = Tool(
    "lookup_order",
    "Look an order up by its id; returns its shipping status.",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string", "pattern": "^[A-Z][0-9]{4}$"}},
        "required": ["order_id"],
    },
)


def lookup_order(order_id: str) -> str:
    """The tool itself: the shop's order database."""
    return ORDERS.get(order_id, "not found")


def support_model(chat: FakeChat) -> str | FakeReply:
    """The scripted model behind both fakes: look the order up, then answer with it."""
    last = chat.messages[-1]
    if last.tool_results:
        calls = {c.id: c for c in chat.messages[-2].tool_calls}
        lines = []
        for result in last.tool_results:
            order = calls[result.tool_use_id].input["order_id"]
            lines.append(f"Order {order} is {result.content}.")
        return " ".join(lines)
    order = re.search(r"\b[A-Z]\d{4}\b", last.text)
    if order is None:
        return "Which order is it about? Its id looks like A1001."
    return FakeReply(
        text="Let me check that order.",
        tool_calls=[FakeToolCall("lookup_order", {"order_id": order[0]})],
    )


def answer(
    client: Client,
    messages: list[Any],
    question: str,
    *,
    while_the_tool_runs: Callable[[], None] = lambda: None,
) -> None:
    """One customer turn: call the model, run the tools it asks for, until it answers."""
    print(f"customer: {question}")
    messages.append({"role": "user", "content": question})
    while True:
        r = client.chat(messages=messages, model="support", tools=[LOOKUP])
        messages.append(r.to_message())
        if not r.tool_calls:
            print(f"  {r.provider:<9} answers: {r.text}")
            return
        for call in r.tool_calls:
            args = json.dumps(dict(call.input))
            print(f"  {r.provider:<9} calls {call.name}({args}), id {call.id}")
            while_the_tool_runs()
            result = lookup_order(**call.input)
            print(f"  {'tool':<9} returns: {result}")
            messages.append(ToolResult(call.id, result))


def main() -> None:
    legacy = FakeProvider(api_key="test-key", script=support_model)
    holysheep = FakeProvider(api_key="test-key", script=support_model)
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://legacy.localhost/v1",
                protocol="openai",
                api_key="test-key",
                weight=100,
                models={"support": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://holysheep.localhost/v1",
                protocol="anthropic",
                api_key="test-key",
                weight=0,  # standby: it gets a call only when legacy fails
                models={"support": "deepseek-v3.2"},
            ),
        ],
        retry=RetryConfig(max_attempts=2, initial_backoff=0, max_backoff=0),
        circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=300),
        rate_limit=None,
    )

    def outage() -> None:
        if not legacy.faults:
            legacy.set_faults([Fault("status", status=503)])
            print("  -- legacy goes down: every request now gets a 503 --")

    transports = {
        "legacy": legacy.sync_transport(),
        "holysheep": holysheep.sync_transport(),
    }
    with Client(config, transports=transports) as client:
        messages: list[Any] = [
            {"role": "system", "content": "You are the shop's support agent."}
        ]
        answer(client, messages, "Where is my order A1001?")
        answer(client, messages, "And order B2002?", while_the_tool_runs=outage)
        answer(client, messages, "One more: C3003, please.")
        health = client.health().providers

    handover = holysheep.requests[0].body["messages"]
    call, result = handover[-2]["content"][-1], handover[-1]["content"][0]
    print(
        f"holysheep took the loop over in its own protocol: a {call['type']} block"
        f" {call['id']} and a {result['type']} for {result['tool_use_id']}"
    )
    for name, fake in (("legacy", legacy), ("holysheep", holysheep)):
        statuses = [r.status for r in fake.requests]
        print(
            f"{name}: received {len(statuses)} requests,"
            f" {statuses.count(200)} answered, {len(statuses) - statuses.count(200)}"
            f" failed; breaker {health[name].breaker}"
        )


if __name__ == "__main__":
    main()
