"""
Whatever JSON arrives, the strict fake answers a 200 or its protocol's 400, never a crash.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fake_helpers import ANTHROPIC, ANTHROPIC_TOOL, OPENAI, OPENAI_TOOL, USER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holysheep_client.testing import FakeProvider

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "tool_use", "text", "image", "function", "user", "assistant", "tool"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "role", "content", "id", "name", "input", "text", "tool_use_id", "tool_calls", "function", "arguments", "source", "image_url", "url", "tool_call_id"]), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
ANTHROPIC_BODY = {
    "model": "m",
    "max_tokens": 100,
    "messages": [
        *USER,
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        *USER,
    ],
    "tools": [ANTHROPIC_TOOL],
}
OPENAI_BODY = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "s"},
        *USER,
        {"role": "assistant", "content": "ok"},
        *USER,
    ],
    "tools": [OPENAI_TOOL],
}
# Where a random value goes: a top-level key, or a key of a message, of a block, of a tool.
SLOTS = [
    ("body", None, "messages"), ("body", None, "tools"), ("body", None, "tool_choice"),
    ("body", None, "system"), ("body", None, "response_format"), ("body", None, "thinking"),
    ("message", 1, "content"), ("message", 1, "tool_calls"), ("message", 2, "content"),
    ("block", 1, "type"), ("block", 1, "source"), ("tool", 0, "input_schema"),
    ("tool", 0, "function"), ("tool", 0, "type"),
]  # fmt: skip


def mutate(
    template: dict[str, Any], slot: tuple[str, int | None, str], value: Any
) -> dict[str, Any]:
    """A copy of ``template`` with ``value`` put in ``slot``."""
    body = copy.deepcopy(template)
    where, index, key = slot
    if where == "body":
        body[key] = value
    elif where == "message":
        body["messages"][index][key] = value
    elif where == "block":
        content = body["messages"][index]["content"]
        if isinstance(content, list):
            content[0][key] = value
        else:
            body["messages"][index][key] = value
    else:
        body["tools"][index][key] = value
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    slot=st.sampled_from(SLOTS),
    value=JSON,
    protocol=st.sampled_from(["anthropic", "openai"]),
)
def test_any_json_gets_a_protocol_answer_never_a_crash(
    slot: tuple[str, int | None, str], value: Any, protocol: str
) -> None:
    """A body with any JSON in any slot is answered 200 or 400 in the protocol's shape."""
    provider = FakeProvider()
    if protocol == "anthropic":
        body, path, headers = (
            mutate(ANTHROPIC_BODY, slot, value),
            "/v1/messages",
            ANTHROPIC,
        )
    else:
        body, path, headers = (
            mutate(OPENAI_BODY, slot, value),
            "/v1/chat/completions",
            OPENAI,
        )
    plan = provider.handle("POST", path, headers, json.dumps(body).encode())
    assert plan.status in (200, 400)
    if plan.status == 400:
        error = json.loads(b"".join(s.data for s in plan.steps if hasattr(s, "data")))
        assert isinstance(error["error"]["message"], str)
