"""
Hostile provider answers: every parse ends in a value or one of our typed errors, never
a RecursionError, OverflowError, AttributeError or JSONDecodeError, and never hangs.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holysheep_client import APIError, HolySheepError
from holysheep_client._protocols import ANTHROPIC, OPENAI
from holysheep_client._protocols._base import WireProtocol

PROTOCOLS = [pytest.param(ANTHROPIC, id="anthropic"), pytest.param(OPENAI, id="openai")]
DEEP = b"[" * 200_000


def outcome(fn: Any, *args: Any, **kw: Any) -> object:
    """Run a parser; a typed error counts as an outcome, anything else fails the test."""
    start = time.monotonic()
    try:
        return fn(*args, **kw)
    except HolySheepError as exc:
        return exc
    finally:
        assert time.monotonic() - start < 1.0, "a parse took over a second"


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="nested-200000"),
        pytest.param(b'{"usage": {"input_tokens": 1e400}}', id="huge-float"),
        pytest.param(b'{"usage": {"prompt_tokens": Infinity}}', id="infinity"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(
            b'{"error": {"type": "overloaded_error", "message": "busy"}}',
            id="error-in-200",
        ),
        pytest.param(
            b'{"id": "x", "content": [{"type": "text", "text": "cut', id="truncated"
        ),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
    ],
)
def test_a_hostile_200_is_a_typed_provider_fault(
    proto: WireProtocol, body: bytes
) -> None:
    """Deep nesting, huge numbers, bad bytes, an error object or a cut body: APIError with status 200."""
    result = outcome(proto.parse_chat, body, provider="p", request_id=None)
    assert isinstance(result, APIError) and result.status_code == 200


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="nested"),
        pytest.param(
            b'{"type": "error", "error": {"type": 42, "message": ["x"]}}',
            id="error-type-not-str",
        ),
        pytest.param(
            b'{"error": {"code": {"a": 1}, "type": null, "message": 7}}',
            id="odd-fields",
        ),
        pytest.param(b'{"error": "just a string"}', id="error-string"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
    ],
)
@pytest.mark.parametrize("status", [400, 401, 429, 500, 529])
def test_a_hostile_error_body_is_still_the_typed_error(
    proto: WireProtocol, body: bytes, status: int
) -> None:
    """Whatever an error body holds, the status decides the typed error."""
    err = outcome(
        proto.parse_error, status, body, provider="p", request_id=None, retry_after=None
    )
    assert isinstance(err, APIError) and err.status_code == status


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"data: " + DEEP + b"\n\n", id="nested"),
        pytest.param(
            b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1e400}}}\n\n',
            id="huge-anthropic",
        ),
        pytest.param(
            b'data: {"choices":[],"usage":{"prompt_tokens":1e400}}\n\n',
            id="huge-openai",
        ),
        pytest.param(b"data: \xff\xfe\n\n", id="not-utf8"),
        pytest.param(
            b'event: error\ndata: {"type":"error","error":{"type":["x"]}}\n\n',
            id="odd-error",
        ),
    ],
)
def test_a_hostile_stream_event_is_a_typed_error(
    proto: WireProtocol, raw: bytes
) -> None:
    """A hostile event ends in a typed error (or is skipped), never an untyped one."""
    outcome(proto.stream_decoder(provider="p").feed, raw)


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_a_hostile_models_listing_is_typed(proto: WireProtocol) -> None:
    """A models listing with the wrong shape raises APIError."""
    for body in (DEEP, b'{"data": 5}', b'{"data": [{"name": "x"}]}', b"[]"):
        assert isinstance(outcome(proto.parse_models, body, provider="p"), APIError)


@pytest.mark.parametrize(
    "body",
    [DEEP, b"[]", b"{}", b'{"input_tokens": "7"}', b'{"input_tokens": 1e400}'],
)
def test_a_hostile_token_count_is_typed(body: bytes) -> None:
    """A count answer that is not a whole number of tokens raises APIError."""
    assert isinstance(outcome(ANTHROPIC.parse_count, body, provider="p"), APIError)
    assert ANTHROPIC.parse_count(b'{"input_tokens": 7}', provider="p") == 7


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
# Bodies near the real shapes, so the fuzzing reaches past the first key lookup.
CHAT_KEYS = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "model": JSON,
        "content": JSON,
        "choices": st.lists(
            st.fixed_dictionaries(
                {}, optional={"message": JSON, "finish_reason": JSON}
            ),
            max_size=2,
        ),
        "usage": JSON,
        "stop_reason": JSON,
        "error": JSON,
    },
)


@pytest.mark.parametrize("proto", PROTOCOLS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=CHAT_KEYS | JSON)
def test_fuzzed_answers_end_in_a_value_or_a_typed_error(
    proto: WireProtocol, body: Any
) -> None:
    """Any JSON, near the answer's shape or not: a parsed answer or APIError."""
    raw = json.dumps(body, allow_nan=True).encode()
    outcome(proto.parse_chat, raw, provider="p", request_id=None)
    outcome(
        proto.parse_error, 500, raw, provider="p", request_id=None, retry_after=None
    )
    outcome(proto.parse_models, raw, provider="p")
    if proto.count_path() is not None:
        outcome(proto.parse_count, raw, provider="p")


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
                "error",
                "ping",
            ]
        ),
        CHAT_KEYS
        | JSON
        | st.fixed_dictionaries(
            {
                "type": st.sampled_from(
                    [
                        "content_block_delta",
                        "content_block_start",
                        "content_block_stop",
                        "message_delta",
                    ]
                ),
                "index": JSON,
                "delta": JSON,
                "content_block": JSON,
            }
        ),
    ),
    max_size=6,
)


@pytest.mark.parametrize("proto", PROTOCOLS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=EVENTS)
def test_fuzzed_streams_end_in_events_or_a_typed_error(
    proto: WireProtocol, events: list[tuple[str, Any]]
) -> None:
    """Any sequence of events, valid names or not: events, or a typed error."""
    dec = proto.stream_decoder(provider="p")
    raw = b"".join(
        f"event: {e}\ndata: {json.dumps(d, allow_nan=True)}\n\n".encode()
        for e, d in events
    )
    outcome(dec.feed, raw)
