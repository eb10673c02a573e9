"""
Playing a `ResponsePlan` in process: the response, its body step by step (so a cut or
a stall happens mid-read, where a real connection fails), and the waits, which honour
the request's read timeout and bound as a real socket would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import httpx2

from .._transports.deadline import time_left
from .._types import Clock
from ._http11 import response_head
from ._plan import Pause, ResponsePlan, Send, reason_phrase

__all__ = [
    "AsyncBody",
    "Httpx2AsyncBody",
    "Httpx2SyncBody",
    "HttpxAsyncBody",
    "HttpxSyncBody",
    "Play",
    "SyncBody",
    "async_wait",
    "head_gaps",
    "library_module",
    "read_timeout",
    "sync_wait",
]

_DROPPED = "Server disconnected without sending a response."
_CUT_CHUNKED = (
    "peer closed connection without sending complete message body:"
    " incomplete chunked read"
)


def library_module(flavor: str) -> ModuleType:
    if flavor == "httpx2":
        return httpx2
    if flavor == "httpx":
        return httpx
    raise ValueError(f"flavor must be 'httpx2' or 'httpx', got {flavor!r}")


def read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict):
        value = timeout.get("read")
        return float(value) if value is not None else None
    return None


class Play:
    """
    One response being played: the request, the waits' timeout, the release hook.
    """

    def __init__(
        self,
        mod: ModuleType,
        request: Any,
        plan: ResponsePlan,
        clock: Clock,
        read_timeout: float | None,
        release: Callable[[], None],
        honour: bool = True,
    ) -> None:
        self.mod = mod
        self.request = request
        self.plan = plan
        self.clock = clock
        self.read_timeout = read_timeout
        self.honour = honour
        self._release = release
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    def timeout_for(self, seconds: float) -> float | None:
        """
        The shorter wait after which a real client gives up, or ``None``.

        That is the request's read timeout, clamped to the bound of the request
        being served (the attempt's deadline, as the pool's sockets are).
        """
        if not self.honour:
            return None
        limit = time_left(self.read_timeout)
        if limit is not None and seconds > limit:
            return max(limit, 0.0)
        return None

    def read_timeout_error(self) -> Exception:
        exc: Exception = self.mod.ReadTimeout(
            "The read operation timed out", request=self.request
        )
        return exc

    def cut_error(self) -> Exception:
        if self.plan.streaming:
            message = _CUT_CHUNKED
        else:
            sent = sum(len(s.data) for s in self.plan.steps if isinstance(s, Send))
            message = (
                "peer closed connection without sending complete message body:"
                f" received {sent} bytes, expected {self.plan.content_length}"
            )
        exc: Exception = self.mod.RemoteProtocolError(message, request=self.request)
        return exc

    def drop_error(self) -> Exception:
        exc: Exception = self.mod.RemoteProtocolError(_DROPPED, request=self.request)
        return exc

    def response(self, stream: Any) -> Any:
        headers = list(self.plan.headers)
        if not self.plan.streaming and self.plan.content_length is not None:
            headers.append(("content-length", str(self.plan.content_length)))
        reason = reason_phrase(self.plan.status).encode()
        return self.mod.Response(
            self.plan.status,
            headers=headers,
            stream=stream,
            request=self.request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )


class AsyncBody:
    def __init__(self, play: Play) -> None:
        self._play = play

    async def __aiter__(self) -> AsyncIterator[bytes]:
        play = self._play
        try:
            for step in play.plan.steps:
                if isinstance(step, Send):
                    yield step.data
                elif isinstance(step, Pause):
                    await async_wait(play, step.seconds)
                else:
                    raise play.cut_error()
        finally:
            play.release()

    async def aclose(self) -> None:
        self._play.release()


class SyncBody:
    def __init__(self, play: Play) -> None:
        self._play = play

    def __iter__(self) -> Iterator[bytes]:
        play = self._play
        try:
            for step in play.plan.steps:
                if isinstance(step, Send):
                    yield step.data
                elif isinstance(step, Pause):
                    sync_wait(play, step.seconds)
                else:
                    raise play.cut_error()
        finally:
            play.release()

    def close(self) -> None:
        self._play.release()


class Httpx2AsyncBody(AsyncBody, httpx2.AsyncByteStream):
    pass


class HttpxAsyncBody(AsyncBody, httpx.AsyncByteStream):
    pass


class Httpx2SyncBody(SyncBody, httpx2.SyncByteStream):
    pass


class HttpxSyncBody(SyncBody, httpx.SyncByteStream):
    pass


async def async_wait(play: Play, seconds: float) -> None:
    if seconds <= 0:
        return
    limit = play.timeout_for(seconds)
    if limit is not None:
        await play.clock.async_sleep(limit)
        raise play.read_timeout_error()
    await play.clock.async_sleep(seconds)


def sync_wait(play: Play, seconds: float) -> None:
    if seconds <= 0:
        return
    limit = play.timeout_for(seconds)
    if limit is not None:
        play.clock.sleep(limit)
        raise play.read_timeout_error()
    play.clock.sleep(seconds)


def head_gaps(plan: ResponsePlan) -> list[float]:
    """The waits of headers sent one byte at a time (a ``drip`` of the headers)."""
    if plan.drip_head is None:
        return []
    size = len(response_head(plan.status, plan.headers, True))
    return [1.0 / plan.drip_head] * size
