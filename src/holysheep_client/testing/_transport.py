"""
In-process transports that answer from a `FakeProvider`, with streaming bodies.

The body is played step by step while the caller reads it, so a cut or a stall
happens mid-read, exactly where a real connection would fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

import httpx
import httpx2

from .._types import Clock
from ._plan import ResponsePlan
from ._play import (
    AsyncBody,
    Httpx2AsyncBody,
    Httpx2SyncBody,
    HttpxAsyncBody,
    HttpxSyncBody,
    Play,
    SyncBody,
    async_wait,
    head_gaps,
    library_module,
    read_timeout,
    sync_wait,
)


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


class _Base:
    _flavor: Flavor = "httpx2"
    _async_body: type[AsyncBody] = Httpx2AsyncBody
    _sync_body: type[SyncBody] = Httpx2SyncBody

    def __init__(self, provider: Answering, *, honour_timeouts: bool = True) -> None:
        self._provider = provider
        self._mod = library_module(self._flavor)
        self._honour_timeouts = honour_timeouts

    def _start(self, request: Any, body: bytes) -> Play:
        if not isinstance(request, self._mod.Request):
            got = type(request).__module__.split(".")[0]
            raise TypeError(
                f"this fake transport builds {self._flavor} responses but got"
                f" a {got}.Request; use flavor={got!r}"
            )
        plan = self._provider.handle(
            request.method, request.url.path, dict(request.headers), body
        )
        timeout = read_timeout(request) if self._honour_timeouts else None
        self._provider.enter_flight()
        return Play(
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
            await async_wait(play, play.plan.delay)
            for gap in head_gaps(play.plan):
                await async_wait(play, gap)
            if play.plan.drop:
                raise play.drop_error()
        except BaseException:
            play.release()
            raise
        return play.response(self._async_body(play))

    def _handle_sync(self, request: Any) -> Any:
        play = self._start(request, request.read())
        try:
            sync_wait(play, play.plan.delay)
            for gap in head_gaps(play.plan):
                sync_wait(play, gap)
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
    _async_body = HttpxAsyncBody

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
    _sync_body = HttpxSyncBody

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
