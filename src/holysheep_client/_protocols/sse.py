"""
Server-sent events framing (`SSEDecoder`) and the JSON of one event (`event_json`).

The decoder looks at every byte once: a chunk's complete lines are decoded and split
in one pass each (C code), and only an unfinished last line is kept, as a list of
pieces joined once its end arrives; nothing already scanned is copied or split again.
"""

from __future__ import annotations

import json
import re
from itertools import chain, repeat
from typing import Any

__all__ = ["SSEDecoder", "event_json", "raw_json"]

#: ``(value, end)`` of the JSON value at the start of a string (json's own).
raw_json = json.JSONDecoder().raw_decode


def event_json(data: str) -> Any:
    """
    ``json.loads(data)`` with one layer instead of three for the common case, a
    value spanning the whole string (as an SSE ``data`` field is). The decoders
    inline it.

    Raises:
        ValueError: ``data`` is not one JSON value.
        RecursionError: It nests too deep.
    """
    try:
        value, end = raw_json(data)
    except (ValueError, RecursionError):
        end = -1
    if end != len(data):
        return json.loads(data)  # space around the value, trailing bytes, or no JSON
    return value


_NAMED = re.compile(r"event: ([^\n]*)\ndata: ([^\n]*)\n\n")
_DATA = re.compile(r"data: ([^\n]*)\n\n")


class SSEDecoder:
    """
    Server-sent events framing: bytes in, ``(event, data)`` pairs out.

    Handles CRLF and LF line ends, comments, multi-line ``data``, and chunks that
    split lines (or UTF-8 sequences) anywhere.
    """

    __slots__ = ("_data", "_event", "_more", "_rest")

    def __init__(self) -> None:
        self._rest: list[bytes] = []  # the pieces of an unfinished line
        self._event: str | None = None
        self._data: str | None = None  # the first data line; later ones in _more
        self._more: list[str] | None = None

    def feed(self, chunk: bytes) -> list[tuple[str | None, str]]:
        """
        Decode a chunk; returns the complete events in it.
        """
        last = chunk.rfind(b"\n")
        if last < 0:
            if chunk:
                self._rest.append(chunk)
            return []
        if self._rest:
            self._rest.append(chunk[: last + 1])
            done = b"".join(self._rest)
            self._rest = []
        else:
            done = chunk if last == len(chunk) - 1 else chunk[: last + 1]
        if last < len(chunk) - 1:
            self._rest.append(chunk[last + 1 :])
        text = done.decode("utf-8", "replace")
        if "\r" in text or self._data is not None or self._event is not None:
            lines = text.split("\n")
            lines.pop()  # the empty string after the last newline
            return self._lines(lines)
        return self._blocks(text)

    def _blocks(self, text: str) -> list[tuple[str | None, str]]:
        """Whole events at once (no event is pending, no ``\r`` in ``text``).

        The usual streams are all ``event: E\ndata: D`` blocks (Anthropic) or all
        ``data: D`` blocks (OpenAI): one regex pass takes them, and the lengths of
        what it took prove that it took everything. Any other text goes block by
        block, and a last event not ended yet line by line (`_lines`).
        """
        cut = text.rfind("\n\n") + 2  # the end of the last whole event
        if cut < 2:
            cut = 0
        elif text.startswith("event: "):
            named = _NAMED.findall(text, 0, cut)
            if 16 * len(named) + sum(map(len, chain.from_iterable(named))) == cut:
                return self._tail(named, text, cut)
        elif text.startswith("data: "):
            datas = _DATA.findall(text, 0, cut)
            if 8 * len(datas) + sum(map(len, datas)) == cut:
                return self._tail(list(zip(repeat(None), datas)), text, cut)
        out: list[tuple[str | None, str]] = []
        for block in text[:cut].split("\n\n")[:-1] if cut else ():
            lines = block.split("\n")
            lines.append("")  # the blank line that ended it
            out += self._lines(lines)
        return self._tail(out, text, cut)

    def _tail(
        self, out: list[tuple[str | None, str]], text: str, cut: int
    ) -> list[tuple[str | None, str]]:
        if cut < len(text):
            lines = text[cut:].split("\n")
            lines.pop()  # the empty string after the last newline
            out += self._lines(lines)
        return out

    def _lines(self, lines: list[str]) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        event, data, more = self._event, self._data, self._more
        for line in lines:
            if line and line[-1] == "\r":
                line = line.rstrip("\r")
            if not line:
                if data is not None:
                    out.append((event, data if more is None else "\n".join(more)))
                elif event is not None:
                    out.append((event, ""))
                event = data = more = None
            elif line.startswith("data:"):
                value = line[6:] if line.startswith("data: ") else line[5:]
                if data is None:
                    data = value
                elif more is None:
                    more = [data, value]
                else:
                    more.append(value)
            elif line.startswith("event:"):
                event = line[7:] if line.startswith("event: ") else line[6:]
            elif line[0] != ":":
                name, _, value = line.partition(":")
                if name == "data":  # "data" alone: an empty data line
                    if data is None:
                        data = ""
                    elif more is None:
                        more = [data, ""]
                    else:
                        more.append("")
                elif name == "event":
                    event = ""
        self._event, self._data, self._more = event, data, more
        return out
