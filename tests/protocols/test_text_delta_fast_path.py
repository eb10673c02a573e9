"""
The Anthropic stream decoder's fast path for a plain text delta gives exactly what
decoding its JSON gives, for any text and any spelling, and never takes what is
not JSON.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holysheep_client import APIError
from holysheep_client._content.events import TextDelta
from holysheep_client._protocols import ANTHROPIC
from holysheep_client._protocols.anthropic_messages.stream import _PLAIN_TEXT_DELTA

START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"m",'
    b'"type":"message","role":"assistant","model":"x","content":[],'
    b'"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)


def delta(text: str, *, compact: bool = True, index: int = 0) -> str:
    seps = (",", ":") if compact else (", ", ": ")
    obj = {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "text_delta", "text": text},
    }
    return json.dumps(obj, separators=seps, ensure_ascii=False)


def decoded(data: str) -> list[object]:
    dec = ANTHROPIC.stream_decoder(provider="p")
    dec.feed(START)
    events: list[object] = dec.feed(
        b"event: content_block_delta\ndata: " + data.encode() + b"\n\n"
    )
    return events


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(),
    compact=st.booleans(),
    index=st.integers(0, 10**6),
    ascii_=st.booleans(),
)
def test_any_text_delta_decodes_as_its_json(
    text: str, compact: bool, index: int, ascii_: bool
) -> None:
    data = delta(text, compact=compact, index=index)
    if ascii_:
        data = json.dumps(json.loads(data), separators=(",", ":"))
    assert decoded(data) == [TextDelta(json.loads(data)["delta"]["text"])]


@pytest.mark.parametrize(
    ("data", "fast"),
    [
        (delta("Hello"), True),
        (delta("héllo ✓"), True),
        (delta('say "hi"'), False),  # an escape: decoded as JSON
        (delta("line\nbreak"), False),
        (delta("Hello", compact=False), False),
        (delta("Hello", index=12), True),
    ],
)
def test_the_fast_path_takes_only_text_needing_no_decoding(
    data: str, fast: bool
) -> None:
    assert (_PLAIN_TEXT_DELTA(data) is not None) is fast
    assert decoded(data) == [TextDelta(json.loads(data)["delta"]["text"])]


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"a"}}',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\tb"}}',
    ],
    ids=["leading-zero", "raw-control-char"],
)
def test_what_is_not_json_is_refused_not_taken(data: str) -> None:
    assert _PLAIN_TEXT_DELTA(data) is None
    with pytest.raises(APIError, match="not JSON"):
        decoded(data)
