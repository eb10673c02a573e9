"""
Deadlines at the pool boundary: every socket operation gets only the time left.

httpcore reads a request's ``timeout`` extension once per phase (headers, body), so
a server that drips one byte at a time resets the read timeout with every byte and
can hold a call forever. Our pool therefore runs on a network backend that wraps
httpcore's own and clamps the timeout of every connect, read and write to the
`Bound` of the request being served: the absolute deadline of the attempt (its
``per_attempt``, the call's ``timeout.total`` and, for a stream's first event, its
``first_token``), and the stream's idle bound while it streams.

The bound travels in a context variable, set by the attempt layer around sending
and by the observed stream around each body read: the code that reads a socket
for a request always runs in that request's context (the caller's thread, or its
task). A socket operation past the bound raises the library's timeout, which the
attempt layer maps to `APITimeoutError` like any other.

An `Abort` stops a request from another thread (the loser of a sync hedge): it
shuts the socket being read down, which wakes a blocked read at once.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from contextvars import ContextVar
from typing import Any, Final

from .._types import Clock
from ..errors import APITimeoutError

__all__ = [
    "Abort",
    "Bound",
    "current_bound",
    "deadline_backend",
    "deadline_error",
    "enter_bound",
    "leave_bound",
    "time_left",
]


def deadline_error(provider: str | None) -> APITimeoutError:
    """
    The error for a call whose deadline passed.
    """
    where = f" calling provider {provider!r}" if provider else ""
    return APITimeoutError(
        f"the call's total deadline passed{where}", provider=provider
    )


class Abort:
    """
    Stops one provider hop from another thread; used once, by whoever won the race.

    The hop's socket reads register here while they block, so `abort` can shut the
    socket down (waking the read); any later read of the hop fails at once.
    """

    __slots__ = ("_lock", "_streams", "aborted")

    def __init__(self) -> None:
        self.aborted = False
        self._lock = threading.Lock()
        self._streams: set[Any] = set()

    def abort(self) -> None:
        """
        Fail the hop's current and later socket operations.
        """
        with self._lock:
            self.aborted = True
            streams = list(self._streams)
        for stream in streams:
            _shutdown(stream)

    def watch(self, stream: Any) -> None:
        """
        Register a network stream about to block (shut down at once if aborted).
        """
        with self._lock:
            if not self.aborted:
                self._streams.add(stream)
                return
        _shutdown(stream)

    def unwatch(self, stream: Any) -> None:
        """
        The stream's operation returned.
        """
        with self._lock:
            self._streams.discard(stream)

    def __repr__(self) -> str:
        return f"<Abort aborted={self.aborted}>"


def _shutdown(stream: Any) -> None:
    sock = stream.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            # The plain socket's shutdown, also under TLS: it wakes a blocked read
            # without touching the TLS object another thread is using.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Bound:
    """
    The absolute deadline (on ``clock``) of the socket operations of one request.

    Args:
        at: Monotonic seconds on ``clock``, or ``None`` for no deadline.
        clock: The clock ``at`` is measured on.
        abort: Set when another thread may abort the request.
    """

    __slots__ = ("abort", "at", "clock")

    def __init__(self, at: float | None, clock: Clock, abort: Abort | None) -> None:
        self.at = at
        self.clock = clock
        self.abort = abort

    def __repr__(self) -> str:
        return f"<Bound at={self.at} abort={self.abort is not None}>"


_BOUND: ContextVar[Bound | None] = ContextVar("holysheep_bound", default=None)


# The ContextVar's own methods, so reading or setting the bound adds no Python call
# to the socket operations and body reads of every request.

#: The bound of the request whose I/O runs in this context, if any.
current_bound = _BOUND.get
#: Make a bound the current one; pass the token to `leave_bound`.
enter_bound = _BOUND.set
#: Undo `enter_bound`.
leave_bound = _BOUND.reset


def time_left(timeout: float | None) -> float | None:
    """
    ``timeout`` clamped to the time left before the current bound (may be <= 0).

    Returns:
        The smaller of the two, or ``timeout`` itself outside any bound.
    """
    bound = _BOUND.get()
    if bound is None or bound.at is None:
        return timeout
    left = bound.at - bound.clock.monotonic()
    return left if timeout is None or timeout > left else timeout


class _Errors:
    """httpcore's exceptions for each operation: (timeout, error) pairs."""

    __slots__ = ("connect", "read", "write")

    def __init__(self, core: Any) -> None:
        self.read = (core.ReadTimeout, core.ReadError)
        self.write = (core.WriteTimeout, core.WriteError)
        self.connect = (core.ConnectTimeout, core.ConnectError)


def _limit(timeout: float | None, errors: tuple[Any, Any]) -> float | None:
    """``timeout`` clamped to the current bound.

    Past the bound the operation fails with ``errors[0]`` (httpcore's timeout for
    it), after an abort with ``errors[1]`` (its connection error).
    """
    bound = _BOUND.get()
    if bound is None:
        return timeout
    if bound.abort is not None and bound.abort.aborted:
        raise errors[1]("the request was aborted")
    if bound.at is None:
        return timeout
    left = bound.at - bound.clock.monotonic()
    if left <= 0:
        raise errors[0]("the request's deadline passed")
    return left if timeout is None or timeout > left else timeout


class _SyncStream:
    """A network stream whose every operation is clamped to the current bound."""

    __slots__ = ("_errors", "_inner")

    def __init__(self, inner: Any, errors: _Errors) -> None:
        self._inner = inner
        self._errors = errors

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        t = _limit(timeout, self._errors.read)
        bound = _BOUND.get()
        abort = bound.abort if bound is not None else None
        if abort is None:
            data: bytes = self._inner.read(max_bytes, t)
            return data
        abort.watch(self._inner)
        try:
            data = self._inner.read(max_bytes, t)
        finally:
            abort.unwatch(self._inner)
        if abort.aborted:
            raise self._errors.read[1]("the request was aborted")
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _limit(timeout, self._errors.write))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _SyncStream:
        t = _limit(timeout, self._errors.connect)
        return _SyncStream(
            self._inner.start_tls(ssl_context, server_hostname, t), self._errors
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _readable(sock: Any) -> bool:
    """Whether ``sock`` has data or EOF waiting (``True`` without a socket).

    An idle keep-alive connection that is readable has been closed by the server;
    httpcore asks this of every idle connection whenever its pool assigns requests.
    """
    if sock is None:
        return True
    fd = sock.fileno()
    if fd == -1:
        return True
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


_UNKNOWN: Final[Any] = object()


class _AsyncStream:
    """The async twin of `_SyncStream`."""

    __slots__ = ("_errors", "_inner", "_socket")

    def __init__(self, inner: Any, errors: _Errors) -> None:
        self._inner = inner
        self._errors = errors
        self._socket = _UNKNOWN

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._inner.read(
            max_bytes, _limit(timeout, self._errors.read)
        )
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _limit(timeout, self._errors.write))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _AsyncStream:
        t = _limit(timeout, self._errors.connect)
        inner = await self._inner.start_tls(ssl_context, server_hostname, t)
        return _AsyncStream(inner, self._errors)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # anyio answers every attribute by building all of them (a getpeername
            # syscall among them), and the pool asks this of each idle connection
            # at every assignment: ask once for the socket, then probe it here.
            sock = self._socket
            if sock is _UNKNOWN:
                sock = self._socket = self._inner.get_extra_info("socket")
            return _readable(sock)
        return self._inner.get_extra_info(info)


class _SyncBackend:
    __slots__ = ("_errors", "_inner")

    def __init__(self, core: Any) -> None:
        self._errors = _Errors(core)
        self._inner = core.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _SyncStream:
        t = _limit(timeout, self._errors.connect)
        inner = self._inner.connect_tcp(
            host, port, t, local_address=local_address, socket_options=socket_options
        )
        return _SyncStream(inner, self._errors)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _SyncStream:
        t = _limit(timeout, self._errors.connect)
        inner = self._inner.connect_unix_socket(path, t, socket_options=socket_options)
        return _SyncStream(inner, self._errors)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend:
    __slots__ = ("_errors", "_inner")

    def __init__(self, core: Any) -> None:
        self._errors = _Errors(core)
        self._inner = core.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _AsyncStream:
        t = _limit(timeout, self._errors.connect)
        inner = await self._inner.connect_tcp(
            host, port, t, local_address=local_address, socket_options=socket_options
        )
        return _AsyncStream(inner, self._errors)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _AsyncStream:
        t = _limit(timeout, self._errors.connect)
        inner = await self._inner.connect_unix_socket(
            path, t, socket_options=socket_options
        )
        return _AsyncStream(inner, self._errors)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


#: Which httpcore goes with which HTTP library.
CORES: Final = {"httpx2": "httpcore2", "httpx": "httpcore"}


def deadline_backend(core: Any, *, sync: bool) -> Any:
    """
    A network backend for ``core`` (httpcore2 or httpcore) that clamps to the bound.

    Args:
        core: The httpcore module the pool is built on.
        sync: The sync backend (sockets) or the async one (anyio).
    """
    return _SyncBackend(core) if sync else _AsyncBackend(core)
