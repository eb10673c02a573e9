"""
In-process transports that answer from a `FakeProvider`, with streaming bodies.

The body is played step by step while the caller reads it, so a cut or a stall
happens mid-read, exactly where a real connection would fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, Literal, Protocol

import httpx
import httpx2

from .._transports.deadline import time_left
from .._types import Clock
from ._http11 import response_head
from ._plan import Pause, ResponsePlan, Send, reason_phrase


class Answering(Protocol):
    """
    What the transports need of a `FakeProvider` (a protocol, so neither imports the other).
    """

    clock: Clock

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ResponsePlan:
        """Decide the answer to one request."""
        ...

    def enter_flight(self) -> None:
        """A response starts playing."""
        ...

    def leave_flight(self) -> None:
        """A response ended (read, closed or broken)."""
        ...


__all__ = [
    "FakeAsyncTransport",
    "FakeHttpxAsyncTransport",
    "FakeHttpxSyncTransport",
    "FakeSyncTransport",
]

Flavor = Literal["httpx2", "httpx"]

_DROPPED = "Server disconnected without sending a response."
_CUT_CHUNKED = (
    "peer closed connection without sending complete message body:"
    " incomplete chunked read"
)


def _module(flavor: str) -> ModuleType:
    if flavor == "httpx2":
        return httpx2
    if flavor == "httpx":
        return httpx
    raise ValueError(f"flavor must be 'httpx2' or 'httpx', got {flavor!r}")


def _read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict):
        value = timeout.get("read")
        return float(value) if value is not None else None
    return None


class _Play:
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


class _AsyncBody:
    def __init__(self, play: _Play) -> None:
        self._play = play

    async def __aiter__(self) -> AsyncIterator[bytes]:
        play = self._play
        try:
            for step in play.plan.steps:
                if isinstance(step, Send):
                    yield step.data
                elif isinstance(step, Pause):
                    await _async_wait(play, step.seconds)
                else:
                    raise play.cut_error()
        finally:
            play.release()

    async def aclose(self) -> None:
        self._play.release()


class _SyncBody:
    def __init__(self, play: _Play) -> None:
        self._play = play

    def __iter__(self) -> Iterator[bytes]:
        play = self._play
        try:
            for step in play.plan.steps:
                if isinstance(step, Send):
                    yield step.data
                elif isinstance(step, Pause):
                    _sync_wait(play, step.seconds)
                else:
                    raise play.cut_error()
        finally:
            play.release()

    def close(self) -> None:
        self._play.release()


class _Httpx2AsyncBody(_AsyncBody, httpx2.AsyncByteStream):
    pass


class _HttpxAsyncBody(_AsyncBody, httpx.AsyncByteStream):
    pass


class _Httpx2SyncBody(_SyncBody, httpx2.SyncByteStream):
    pass


class _HttpxSyncBody(_SyncBody, httpx.SyncByteStream):
    pass


async def _async_wait(play: _Play, seconds: float) -> None:
    if seconds <= 0:
        return
    limit = play.timeout_for(seconds)
    if limit is not None:
        await play.clock.async_sleep(limit)
        raise play.read_timeout_error()
    await play.clock.async_sleep(seconds)


def _sync_wait(play: _Play, seconds: float) -> None:
    if seconds <= 0:
        return
    limit = play.timeout_for(seconds)
    if limit is not None:
        play.clock.sleep(limit)
        raise play.read_timeout_error()
    play.clock.sleep(seconds)


def _head_gaps(plan: ResponsePlan) -> list[float]:
    """The waits of headers sent one byte at a time (a ``drip`` of the headers)."""
    if plan.drip_head is None:
        return []
    size = len(response_head(plan.status, plan.headers, True))
    return [1.0 / plan.drip_head] * size


class _Base:
    _flavor: Flavor = "httpx2"
    _async_body: type[_AsyncBody] = _Httpx2AsyncBody
    _sync_body: type[_SyncBody] = _Httpx2SyncBody

    def __init__(self, provider: Answering, *, honour_timeouts: bool = True) -> None:
        self._provider = provider
        self._mod = _module(self._flavor)
        self._honour_timeouts = honour_timeouts

    def _start(self, request: Any, body: bytes) -> _Play:
        if not isinstance(request, self._mod.Request):
            got = type(request).__module__.split(".")[0]
            raise TypeError(
                f"this fake transport builds {self._flavor} responses but got"
                f" a {got}.Request; use flavor={got!r}"
            )
        plan = self._provider.handle(
            request.method, request.url.path, dict(request.headers), body
        )
        timeout = _read_timeout(request) if self._honour_timeouts else None
        self._provider.enter_flight()
        return _Play(
            self._mod,
            request,
            plan,
            self._provider.clock,
            timeout,
            self._provider.leave_flight,
            self._honour_timeouts,
        )

    async def _handle_async(self, request: Any) -> Any:
        play = self._start(request, await request.aread())
        try:
            await _async_wait(play, play.plan.delay)
            for gap in _head_gaps(play.plan):
                await _async_wait(play, gap)
            if play.plan.drop:
                raise play.drop_error()
        except BaseException:
            play.release()
            raise
        return play.response(self._async_body(play))

    def _handle_sync(self, request: Any) -> Any:
        play = self._start(request, request.read())
        try:
            _sync_wait(play, play.plan.delay)
            for gap in _head_gaps(play.plan):
                _sync_wait(play, gap)
            if play.plan.drop:
                raise play.drop_error()
        except BaseException:
            play.release()
            raise
        return play.response(self._sync_body(play))

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"<{name} flavor={self._flavor!r} provider={self._provider!r}>"


class FakeAsyncTransport(_Base, httpx2.AsyncBaseTransport):
    """
    An httpx2 async transport answering from a `FakeProvider`.

    Get one with `FakeProvider.async_transport`. Waits happen on the
    provider's clock; the body streams (and fails) while it is read.

    Args:
        provider: The fake to answer from.
        honour_timeouts: Raise ``ReadTimeout`` when a wait exceeds the request's
            read timeout, as a real connection would.
    """

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Answer one request.

        Raises:
            httpx2.RemoteProtocolError: For a ``drop`` fault.
            httpx2.ReadTimeout: When a wait exceeds the request's read timeout.
        """
        response: httpx2.Response = await self._handle_async(request)
        return response

    async def aclose(self) -> None:
        """
        Nothing to release; present for the transport interface.
        """


class FakeSyncTransport(_Base, httpx2.BaseTransport):
    """
    An httpx2 sync transport answering from a `FakeProvider`.

    Get one with `FakeProvider.sync_transport`; see `FakeAsyncTransport`.
    """

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Answer one request.

        Raises:
            httpx2.RemoteProtocolError: For a ``drop`` fault.
            httpx2.ReadTimeout: When a wait exceeds the request's read timeout.
        """
        response: httpx2.Response = self._handle_sync(request)
        return response

    def close(self) -> None:
        """
        Nothing to release; present for the transport interface.
        """


class FakeHttpxAsyncTransport(_Base, httpx.AsyncBaseTransport):
    """
    `FakeAsyncTransport` for plain `httpx` clients (``flavor="httpx"``).
    """

    _flavor = "httpx"
    _async_body = _HttpxAsyncBody

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """
        Answer one request.

        Raises:
            httpx.RemoteProtocolError: For a ``drop`` fault.
            httpx.ReadTimeout: When a wait exceeds the request's read timeout.
        """
        response: httpx.Response = await self._handle_async(request)
        return response

    async def aclose(self) -> None:
        """
        Nothing to release; present for the transport interface.
        """


class FakeHttpxSyncTransport(_Base, httpx.BaseTransport):
    """
    `FakeSyncTransport` for plain `httpx` clients (``flavor="httpx"``).
    """

    _flavor = "httpx"
    _sync_body = _HttpxSyncBody

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """
        Answer one request.

        Raises:
            httpx.RemoteProtocolError: For a ``drop`` fault.
            httpx.ReadTimeout: When a wait exceeds the request's read timeout.
        """
        response: httpx.Response = self._handle_sync(request)
        return response

    def close(self) -> None:
        """
        Nothing to release; present for the transport interface.
        """
