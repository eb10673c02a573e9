"""
Helpers for the fake provider's tests: raw requests, SSE parsing, sample bodies.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from holysheep_client.testing import FakeProvider

KEY = "test-key"
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
OPENAI = {"authorization": f"Bearer {KEY}"}
USER = [{"role": "user", "content": "where is my order"}]
#: A real 1x1 PNG, base64: the fake checks image bytes against their media type.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}
ANTHROPIC_TOOL = {
    "name": "lookup_order",
    "description": "Find an order.",
    "input_schema": SCHEMA,
}
OPENAI_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order.",
        "parameters": SCHEMA,
    },
}


def messages(provider: FakeProvider, **body: Any) -> httpx2.Response:
    """POST /v1/messages with the right headers; ``body`` overrides the defaults."""
    payload = {"model": "claude-x", "max_tokens": 100, "messages": USER, **body}
    with httpx2.Client(transport=provider.sync_transport(), base_url=provider.url) as c:
        return c.post("/messages", json=payload, headers=ANTHROPIC)


def completions(provider: FakeProvider, **body: Any) -> httpx2.Response:
    """POST /v1/chat/completions with the right headers; ``body`` overrides the defaults."""
    payload = {"model": "gpt-x", "messages": USER, **body}
    with httpx2.Client(transport=provider.sync_transport(), base_url=provider.url) as c:
        return c.post("/chat/completions", json=payload, headers=OPENAI)


def events(body: str) -> list[dict[str, Any]]:
    """The JSON data of every SSE event in ``body`` (``[DONE]`` left out)."""
    out = []
    for line in body.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def error_of(response: httpx2.Response) -> str:
    """The error message of a 400, in either protocol's shape."""
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["message"])
