"""
The fake provider's wire formats: bodies, streams, auth, validation and the log.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from holysheep_client.testing import DEFAULT_REPLY, FakeProvider, Fault
from holysheep_client.testing._plan import chunk_text

KEY = "test-key"
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
OPENAI = {"authorization": f"Bearer {KEY}"}
USER = [{"role": "user", "content": "say hello to me"}]
TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")


def client(provider: FakeProvider) -> httpx2.Client:
    """A sync httpx2 client on the provider's in-process transport."""
    return httpx2.Client(transport=provider.sync_transport(), base_url=provider.url)


def sse(text: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into (event, data) pairs."""
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        out.append((event, "\n".join(data)))
    return out


def messages(provider: FakeProvider, **body: Any) -> httpx2.Response:
    """POST /v1/messages with the right headers."""
    body = {"model": "claude-x", "max_tokens": 100, "messages": USER, **body}
    with client(provider) as c:
        return c.post("/messages", json=body, headers=ANTHROPIC)


def completions(provider: FakeProvider, **body: Any) -> httpx2.Response:
    """POST /v1/chat/completions with the right headers."""
    body = {"model": "gpt-x", "messages": USER, **body}
    with client(provider) as c:
        return c.post("/chat/completions", json=body, headers=OPENAI)


@given(st.text())
def test_chunks_join_back_to_the_text(text: str) -> None:
    """Joined chunks always equal the text, and no proper prefix ends in a space."""
    chunks = chunk_text(text)
    assert "".join(chunks) == text
    for i in range(1, len(chunks)):
        assert not "".join(chunks[:i])[-1:].isspace()


def test_anthropic_message_has_the_api_shape() -> None:
    """A non-streamed Messages answer has the Message fields and a request-id."""
    r = messages(FakeProvider(), system="be brief")
    assert r.status_code == 200
    assert r.headers["request-id"].startswith("req_")
    body = r.json()
    assert body["id"].startswith("msg_")
    assert {k: body[k] for k in ("type", "role", "model", "stop_reason")} == {
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "stop_reason": "end_turn",
    }
    assert body["content"] == [{"type": "text", "text": DEFAULT_REPLY}]
    assert body["stop_sequence"] is None
    assert (body["usage"]["input_tokens"], body["usage"]["output_tokens"]) == (6, 5)


def test_openai_completion_has_the_api_shape() -> None:
    """A non-streamed chat completion has the ChatCompletion fields and x-request-id."""
    r = completions(
        FakeProvider(), messages=[{"role": "system", "content": "hi"}, *USER]
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"]
    body = r.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": DEFAULT_REPLY, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert [body["usage"][k] for k in TOKENS] == [5, 5, 10]


def test_anthropic_stream_sends_the_events_in_order() -> None:
    """A Messages stream is message_start ... message_stop, with text deltas."""
    r = messages(FakeProvider(), stream=True)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    names = [e for e, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(d) for _, d in events]
    assert all(e == d["type"] for e, d in zip(names, data, strict=True))
    assert "".join(d["delta"]["text"] for d in data[3:8]) == DEFAULT_REPLY
    assert data[0]["message"]["usage"]["input_tokens"] == 4
    assert data[-2]["delta"]["stop_reason"] == "end_turn"
    assert data[-2]["usage"] == {"output_tokens": 5}


@pytest.mark.parametrize("include_usage", [True, False], ids=["usage", "no-usage"])
def test_openai_stream_sends_chunks_then_done(include_usage: bool) -> None:
    """A completion stream has a role chunk, deltas, a finish chunk, usage, [DONE]."""
    r = completions(
        FakeProvider(), stream=True, stream_options={"include_usage": include_usage}
    )
    events = sse(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
    )
    assert text == DEFAULT_REPLY
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] == "stop" and set(finish[:-1]) == {None}
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"]["completion_tokens"] == 5
    else:
        assert "usage" not in chunks[-1]


def test_max_tokens_truncates_the_reply() -> None:
    """max_tokens below the chunk count cuts the reply and reports max_tokens/length."""
    body = messages(FakeProvider(), max_tokens=2).json()
    assert body["content"][0]["text"] == "Hello from"
    assert body["stop_reason"] == "max_tokens"
    assert body["usage"]["output_tokens"] == 2
    choice = completions(FakeProvider(), max_tokens=3).json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (
        "Hello from the",
        "length",
    )


@pytest.mark.parametrize(
    ("prefill", "expected"),
    [("Hello from", " the fake provider."), ("Bonjour", DEFAULT_REPLY)],
    ids=["continues", "unrelated"],
)
def test_assistant_prefill_is_continued(prefill: str, expected: str) -> None:
    """A trailing assistant message is continued when the reply starts with it."""
    prefilled = [*USER, {"role": "assistant", "content": prefill}]
    body = messages(FakeProvider(), messages=prefilled).json()
    assert body["content"][0]["text"] == expected
    blocks = [
        *USER,
        {"role": "assistant", "content": [{"type": "text", "text": prefill}]},
    ]
    stream = messages(FakeProvider(), messages=blocks, stream=True).text
    deltas = [json.loads(d) for e, d in sse(stream) if e == "content_block_delta"]
    assert "".join(d["delta"]["text"] for d in deltas) == expected
    choice = completions(FakeProvider(), messages=prefilled).json()["choices"][0]
    assert choice["message"]["content"] == expected


def test_reply_callable_and_model_map() -> None:
    """A callable reply sees the request body; model_map changes the model reported."""
    seen: list[Any] = []

    def reply(body: Any) -> str:
        seen.append(body)
        return f"echo {body['messages'][-1]['content']}"

    provider = FakeProvider(reply=reply, model_map={"claude-x": "claude-real"})
    body = messages(provider).json()
    assert body["content"][0]["text"] == "echo say hello to me"
    assert body["model"] == "claude-real"
    assert seen[0]["model"] == "claude-x"


@pytest.mark.parametrize(
    ("headers", "shape"),
    [
        (ANTHROPIC, "anthropic"),
        ({"authorization": f"Bearer {KEY}", "anthropic-version": "x"}, "anthropic"),
        (OPENAI, "openai"),
    ],
    ids=["x-api-key", "anthropic-sdk-bearer", "openai-bearer"],
)
def test_models_list_format_follows_the_headers(
    headers: dict[str, str], shape: str
) -> None:
    """GET /models answers in Anthropic's shape with Anthropic headers, else OpenAI's."""
    provider = FakeProvider(models=["a", "b"])
    with client(provider) as c:
        body = c.get("/models", headers=headers).json()
        one = c.get("/models/b", headers=headers).json()
        missing = c.get("/models/zzz", headers=headers)
    if shape == "anthropic":
        assert body["has_more"] is False
        assert (body["first_id"], body["last_id"]) == ("a", "b")
        assert body["data"][0] == {
            "type": "model",
            "id": "a",
            "display_name": "a",
            "created_at": "2025-01-01T00:00:00Z",
        }
        assert one["type"] == "model"
    else:
        assert body["object"] == "list"
        assert body["data"][1]["id"] == "b"
        assert set(body["data"][0]) == {"id", "object", "created", "owned_by"}
        assert one["object"] == "model"
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("path", "headers", "status", "needle"),
    [
        ("/messages", {"anthropic-version": "x"}, 401, "authentication_error"),
        ("/messages", {**ANTHROPIC, "x-api-key": "wrong"}, 401, "authentication_error"),
        ("/messages", {"x-api-key": KEY}, 400, "anthropic-version"),
        ("/chat/completions", {"x-api-key": KEY}, 401, "invalid_api_key"),
        (
            "/chat/completions",
            {"authorization": "Bearer wrong"},
            401,
            "invalid_api_key",
        ),
    ],
    ids=["no-key", "wrong-key", "no-version", "openai-x-api-key", "openai-wrong"],
)
def test_auth_and_version_are_checked(
    path: str, headers: dict[str, str], status: int, needle: str
) -> None:
    """A missing or wrong key gives 401, a missing anthropic-version gives 400."""
    provider = FakeProvider()
    body = {"model": "m", "max_tokens": 5, "messages": USER}
    with client(provider) as c:
        r = c.post(path, json=body, headers=headers)
    assert r.status_code == status
    assert needle in r.text
    assert KEY not in r.text
    assert provider.requests[-1].key_valid is False or status == 400


def test_bearer_token_is_accepted_on_messages() -> None:
    """The anthropic 2.x SDK sends its key as a bearer token; /messages accepts it."""
    provider = FakeProvider()
    with client(provider) as c:
        r = c.post(
            "/messages",
            json={"model": "m", "max_tokens": 5, "messages": USER},
            headers={"authorization": f"Bearer {KEY}", "anthropic-version": "x"},
        )
    assert r.status_code == 200
    assert provider.requests[-1].auth == "bearer"


def test_api_key_none_accepts_any_key() -> None:
    """With api_key=None any non-empty key is valid, but a missing one is not."""
    provider = FakeProvider(api_key=None)
    with client(provider) as c:
        ok = c.get("/models", headers={"authorization": "Bearer whatever"})
        missing = c.get("/models")
    assert (ok.status_code, missing.status_code) == (200, 401)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "m", "messages": USER}, "max_tokens"),
        ({"max_tokens": 5, "messages": USER}, "model"),
        ({"model": "m", "max_tokens": 5, "messages": []}, "messages"),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "system", "content": "x"}, *USER],
            },
            'Unexpected role "system"',
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": USER, "temperature": 1.5},
            "temperature",
        ),
    ],
    ids=["max_tokens", "model", "empty", "system-role", "temperature"],
)
def test_invalid_messages_requests_get_400(body: dict[str, Any], needle: str) -> None:
    """The Messages validation the real API does gives invalid_request_error 400s."""
    with client(FakeProvider()) as c:
        r = c.post("/messages", json=body, headers=ANTHROPIC)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert needle in r.json()["error"]["message"]


def test_bad_json_unknown_path_and_wrong_method() -> None:
    """Invalid JSON is a 400, an unknown path a 404 and a wrong method a 405."""
    with client(FakeProvider()) as c:
        bad = c.post("/messages", content=b"{nope", headers=ANTHROPIC)
        unknown = c.get("/embeddings", headers=OPENAI)
        wrong = c.get("/chat/completions", headers=OPENAI)
    assert [bad.status_code, unknown.status_code, wrong.status_code] == [400, 404, 405]
    assert unknown.json()["error"]["type"] == "invalid_request_error"


def test_request_log_records_everything_but_the_key() -> None:
    """Each request is logged with its body and auth kind, never with the key."""
    provider = FakeProvider(api_key="sk-very-secret")
    with client(provider) as c:
        c.post(
            "/messages",
            json={"model": "m", "max_tokens": 5, "messages": USER, "stream": True},
            headers={"x-api-key": "sk-very-secret", "anthropic-version": "v"},
        )
    [rec] = provider.requests
    assert (rec.method, rec.path, rec.protocol, rec.endpoint) == (
        "POST",
        "/v1/messages",
        "anthropic",
        "chat",
    )
    assert (rec.model, rec.stream, rec.auth, rec.key_valid, rec.status) == (
        "m",
        True,
        "x-api-key",
        True,
        200,
    )
    assert rec.body["max_tokens"] == 5
    assert rec.headers["anthropic-version"] == "v"
    assert "sk-very-secret" not in repr(rec) + json.dumps(rec.to_dict())
    assert "sk-very-secret" not in repr(provider)


def test_reset_restores_the_startup_configuration() -> None:
    """reset() puts back the reply, models and faults given at start, and clears the log."""
    provider = FakeProvider(reply="one")
    messages(provider)
    provider.reply = "two"
    provider.models = []
    provider.reset()
    assert (provider.reply, provider.requests, provider.stats()["requests"]) == (
        "one",
        [],
        0,
    )
    assert provider.models


def test_cut_then_prefill_resume_rebuilds_the_reply() -> None:
    """The text of a cut stream, sent back as a prefill, gets exactly the rest."""
    provider = FakeProvider(faults=[Fault("cut", after_chunks=2, times=1)])
    body = {"model": "m", "max_tokens": 50, "stream": True, "messages": USER}
    partial: list[str] = []
    with (
        client(provider) as c,
        c.stream("POST", "/messages", json=body, headers=ANTHROPIC) as r,
        pytest.raises(httpx2.RemoteProtocolError),
    ):
        partial.extend(r.iter_lines())
    so_far = "".join(
        json.loads(d)["delta"]["text"]
        for e, d in sse("\n".join(partial) + "\n\n")
        if e == "content_block_delta"
    )
    assert so_far == "Hello from"
    resumed = [*USER, {"role": "assistant", "content": so_far}]
    rest = messages(provider, messages=resumed).json()["content"][0]["text"]
    assert so_far + rest == DEFAULT_REPLY
