"""
Scripts and flags on the loopback server: start(), configure(), reset(), the CLI.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from fake_helpers import (
    ANTHROPIC,
    ANTHROPIC_TOOL,
    OPENAI,
    OPENAI_TOOL,
    PNG_B64,
    SCHEMA,
    USER,
)

from holysheep_client.testing import (
    FakeReply,
    FakeServer,
    FakeToolCall,
    json_answer,
    tool_loop,
)
from holysheep_client.testing._cli import main

IMAGE = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}


def post(server: FakeServer, path: str, **body: Any) -> httpx2.Response:
    """POST an API request to the server with the protocol's headers."""
    headers = ANTHROPIC if path == "/messages" else OPENAI
    base = {"model": "m", "messages": USER}
    if path == "/messages":
        base["max_tokens"] = 100
    with httpx2.Client(base_url=server.url) as client:
        return client.post(path, json={**base, **body}, headers=headers)


def test_configure_takes_a_tool_loop_across_the_process_boundary(
    server: FakeServer,
) -> None:
    """configure(script=tool_loop(...)) makes the child a tool-using model."""
    server.configure(
        script=tool_loop("lookup_order", {"order_id": "A1"}, "It is {result}.")
    )
    first = post(server, "/messages", tools=[ANTHROPIC_TOOL]).json()
    [call] = first["content"]
    assert (call["name"], call["input"]) == ("lookup_order", {"order_id": "A1"})
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "shipped"}
    history = [
        *USER,
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [result]},
    ]
    final = post(server, "/messages", tools=[ANTHROPIC_TOOL], messages=history).json()
    assert final["content"][0]["text"] == "It is shipped."


def test_configure_takes_json_answers_fixed_replies_and_removal(
    server: FakeServer,
) -> None:
    """json_answer, a FakeReply (thinking, cache usage) and None all cross as specs."""
    server.configure(script=json_answer({"status": "shipped"}))
    content = post(server, "/chat/completions").json()["choices"][0]["message"][
        "content"
    ]
    assert json.loads(content) == {"status": "shipped"}
    reply = FakeReply(
        thinking="hm",
        tool_calls=[FakeToolCall("lookup_order", {"order_id": "B2"})],
        cache_read_tokens=9,
    )
    server.configure(script=reply)
    body = post(server, "/chat/completions", tools=[OPENAI_TOOL]).json()
    message = body["choices"][0]["message"]
    assert (
        message["reasoning_content"],
        body["usage"]["prompt_tokens_details"]["cached_tokens"],
    ) == ("hm", 9)
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "order_id": "B2"
    }
    server.configure(script={"reply": {"text": "from a spec"}})
    assert post(server, "/messages").json()["content"][0]["text"] == "from a spec"
    server.configure(script=None)
    fmt = {"type": "json_schema", "json_schema": {"name": "o", "schema": SCHEMA}}
    content = post(server, "/chat/completions", response_format=fmt).json()["choices"][
        0
    ]["message"]["content"]
    assert json.loads(content) == {"order_id": ""}


def test_images_flag_and_reset(server: FakeServer) -> None:
    """configure(images=False) refuses images; reset() restores the start-up config."""
    server.configure(images=False, script=json_answer(1))
    r = post(
        server, "/chat/completions", messages=[{"role": "user", "content": [IMAGE]}]
    )
    assert r.status_code == 400
    assert "unknown variant `image_url`" in r.json()["error"]["message"]
    server.reset()
    r = post(
        server, "/chat/completions", messages=[{"role": "user", "content": [IMAGE]}]
    )
    assert (
        r.json()["choices"][0]["message"]["content"] == "Hello from the fake provider."
    )


def test_configure_refuses_what_cannot_cross(server: FakeServer) -> None:
    """A plain function is a TypeError here; a bad spec is the server's 400."""
    with pytest.raises(TypeError, match="process boundary"):
        server.configure(script=lambda chat: "x")
    with pytest.raises(ValueError, match="unknown script kind"):
        server._call("POST", "/_fake/config", {"script": {"echo": {}}})
    with pytest.raises(ValueError, match="images must be true or false"):
        server._call("POST", "/_fake/config", {"images": "no"})


def test_start_up_script_and_images_survive_reset() -> None:
    """start(script=..., images=False) is the configuration reset() goes back to."""
    with FakeServer.start(script=json_answer({"ok": True}), images=False) as server:
        server.configure(script=None, images=True)
        server.reset()
        content = post(server, "/chat/completions").json()["choices"][0]["message"][
            "content"
        ]
        refused = post(
            server, "/chat/completions", messages=[{"role": "user", "content": [IMAGE]}]
        )
    assert json.loads(content) == {"ok": True}
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "script",
    ["not json", '{"tool_loop": {"input": {}}}', '{"nope": 1}'],
    ids=["not-json", "no-tool", "unknown-kind"],
)
def test_cli_rejects_bad_scripts(
    script: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid --script exits with status 2 and says why on stderr."""
    assert main(["serve", "--script", script]) == 2
    assert "--script" in capsys.readouterr().err
