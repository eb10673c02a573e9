"""
HTTP/1.1 on asyncio streams: reading requests and playing `ResponsePlan`s.

Only what the fake server needs: Content-Length and chunked request bodies,
Content-Length and chunked responses, keep-alive and ``Connection: close``.
"""

from __future__ import annotations

import asyncio

from ._plan import Cut, Pause, ResponsePlan, Send, reason_phrase

__all__ = [
    "BadRequest",
    "keep_alive",
    "pause",
    "play",
    "read_chunked",
    "read_request",
    "response_head",
    "write_response",
]

_MAX_BODY = 32 * 1024 * 1024
_POLL = 0.02


class BadRequest(Exception):
    """
    The request cannot be parsed; answer 400 and close.
    """


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, str, dict[str, str], bytes] | None:
    """
    Read one request: method, target, version, lower-cased headers and body.

    Returns:
        The request, or ``None`` when the client closed an idle connection.

    Raises:
        BadRequest: When the request cannot be parsed.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("incomplete request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest("malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("malformed header line")
        key = name.strip().lower()
        headers[key] = (
            f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        )
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise BadRequest("invalid content-length") from exc
        if not 0 <= length <= _MAX_BODY:
            raise BadRequest("content-length out of range")
        body = await reader.readexactly(length)
    return method, target, version, headers, body


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """
    Read a chunked request body (trailers are skipped).
    """
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest("invalid chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return bytes(body)
        body += await reader.readexactly(size + 2)
        del body[-2:]
        if len(body) > _MAX_BODY:
            raise BadRequest("body too large")


def keep_alive(version: str, headers: dict[str, str]) -> bool:
    """
    Whether the connection stays open after this request (HTTP/1.1 defaults to yes).
    """
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def response_head(status: int, headers: list[tuple[str, str]], keep: bool) -> bytes:
    """
    The status line and headers, with ``connection`` set from ``keep``.
    """
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}", "server: holysheep-fake"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("connection: keep-alive" if keep else "connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def write_response(
    writer: asyncio.StreamWriter,
    status: int,
    headers: list[tuple[str, str]],
    data: bytes,
    keep: bool,
) -> None:
    """
    Send a complete response with a Content-Length body.
    """
    writer.write(
        response_head(status, [*headers, ("content-length", str(len(data)))], keep)
        + data
    )
    await writer.drain()


async def pause(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float
) -> bool:
    """
    Wait ``seconds``; False as soon as the client has gone away.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        if reader.at_eof() or writer.is_closing():
            return False
        await asyncio.sleep(min(_POLL, left))
    return True


async def play(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    plan: ResponsePlan,
    keep: bool,
) -> bool:
    """
    Play ``plan`` on the connection; returns whether it may serve another request.
    """
    if not await pause(reader, writer, plan.delay) or plan.drop:
        return False
    headers = list(plan.headers)
    if plan.streaming:
        headers.append(("transfer-encoding", "chunked"))
    else:
        headers.append(("content-length", str(plan.content_length or 0)))
    head = response_head(plan.status, headers, keep)
    if plan.drip_head is None:
        writer.write(head)
    else:
        for i in range(len(head)):
            writer.write(head[i : i + 1])
            await writer.drain()
            if not await pause(reader, writer, 1.0 / plan.drip_head):
                return False
    for step in plan.steps:
        if isinstance(step, Send):
            if plan.streaming:
                writer.write(b"%x\r\n%s\r\n" % (len(step.data), step.data))
            else:
                writer.write(step.data)
            await writer.drain()
        elif isinstance(step, Pause):
            if not await pause(reader, writer, step.seconds):
                return False
        elif isinstance(step, Cut):
            await writer.drain()
            return False
    if plan.streaming:
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    return keep
