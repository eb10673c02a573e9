"""
The SSE decoder: the same events as a plain line-by-line reading, however the bytes
are split, and linear in the size of what it is fed.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holysheep_client._protocols.sse import SSEDecoder, event_json


def reference(data: bytes) -> list[tuple[str | None, str]]:
    """The SSE framing read the simplest way: whole input, line by line."""
    out: list[tuple[str | None, str]] = []
    event: str | None = None
    lines: list[str] = []
    for raw in data.split(b"\n")[:-1]:
        line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        if not line:
            if lines or event is not None:
                out.append((event, "\n".join(lines)))
            event, lines = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            lines.append(value)
        elif name == "event":
            event = value
    return out


def feed_split(data: bytes, cuts: list[int]) -> list[tuple[str | None, str]]:
    decoder = SSEDecoder()
    out: list[tuple[str | None, str]] = []
    start = 0
    for cut in sorted(set(cuts)):
        out += decoder.feed(data[start:cut])
        start = cut
    out += decoder.feed(data[start:])
    return out


LINES = st.sampled_from(
    [
        b"event: content_block_delta",
        b"event:ping",
        b"event",
        b'data: {"type":"x","text":"caf\xc3\xa9 \xe2\x82\xac"}',
        b"data:no-space",
        b"data:  two spaces",
        b"data",
        b"data: [DONE]",
        b": a comment",
        b"id: 7",
        b"retry: 100",
        b"",
        b"data: bad \xe2\x82",
        b"data: a:b:c",
    ]
)
ENDS = st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\r\n\r\n"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(LINES, ENDS), max_size=30),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_any_split_gives_the_reference_events(
    parts: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    """Split anywhere (even inside a UTF-8 sequence), the events are the reference's."""
    data = b"".join(line + end for line, end in parts)
    cuts = [c % (len(data) + 1) for c in cuts]
    assert feed_split(data, cuts) == reference(data)


@pytest.mark.parametrize(
    "data",
    [
        b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n",
        b"data: 1\n\ndata: 2\n\n",
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        b"event: a\ndata: 1\ndata: 2\n\n",
        b"event: a\r\ndata: 1\r\n\r\n",
        b"\n\nevent: a\ndata: 1\n\n\n\n",
        b"event: a\ndata: 1\n\nevent: b\n",
        b"event: only\n\n",
    ],
    ids=[
        "named",
        "data-only",
        "mixed",
        "multi-line-data",
        "crlf",
        "extra-blank-lines",
        "unfinished-tail",
        "event-without-data",
    ],
)
def test_the_whole_event_fast_paths_agree(data: bytes) -> None:
    """Each shape the regex fast path may or may not take reads as the reference."""
    assert SSEDecoder().feed(data) == reference(data)
    assert feed_split(data, list(range(len(data)))) == reference(data)


def test_a_pending_event_continues_in_the_next_chunk() -> None:
    """An event cut after its event line ends in the next chunk."""
    decoder = SSEDecoder()
    assert decoder.feed(b"event: a\n") == []
    assert decoder.feed(b"data: 1\n") == []
    assert decoder.feed(b"\nevent: b\ndata: 2\n\n") == [("a", "1"), ("b", "2")]


def test_feeding_is_linear_in_the_input() -> None:
    """Ten times the events cost about ten times as much, not a hundred."""
    one = b'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n'

    def cost(n: int) -> float:
        data = one * n
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            SSEDecoder().feed(data)
            feed_split(data, list(range(0, len(data), 4096)))
            best = min(best, time.process_time() - start)
        return best

    small, big = cost(2_000), cost(20_000)
    assert big < small * 30


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', ' {"a": 1}', '{"a": 1} ', "[1, 2]", '"s"', "3", "null"],
)
def test_event_json_is_json_loads(text: str) -> None:
    """event_json reads what json.loads reads, whitespace around included."""
    assert event_json(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', "nope", "[1,]"])
def test_event_json_refuses_what_json_loads_refuses(text: str) -> None:
    """Not one JSON value: the same ValueError as json.loads."""
    with pytest.raises(json.JSONDecodeError):
        event_json(text)
