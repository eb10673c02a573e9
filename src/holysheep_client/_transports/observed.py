"""
ObservedStream: a response body that maps transport errors, holds its reads to the
attempt's bound, and reports how it ended.

The attempt layer wraps every response body in one. Layers above it register a
callback (the bulkhead frees its slot, the breaker records its verdict) that runs
once, when the body ends:

- ``True``: read to the end (or, for a deferred body, settled as good);
- ``False``: reading failed (the error is re-raised as ours, `APIConnectionError`
  or `APITimeoutError`, chained ``from`` the upstream one), or settled as bad;
- ``None``: closed before the end, or the read was cancelled.

A client that judges the body itself (a stream's end marker, a 2xx body that must
parse) calls `defer` before reading and `settle` once it knows: the verdict is
then the client's, not the byte stream's.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn

from .._observe.log import logger
from .._runtime import RUNTIME
from .._types import Clock
from ..errors import map_exception
from .deadline import Abort, Bound, enter_bound, leave_bound

__all__ = ["EndCallback", "ObservedStream", "observe", "observed", "wrap_response"]

EndCallback = Callable[[bool | None], None]


class ObservedStream:
    """
    Wraps a response's byte stream (sync or async); see the module docstring.

    The concrete class also derives from the HTTP library's ``AsyncByteStream``
    and ``SyncByteStream`` (httpx2 or httpx, whichever made the response), because
    ``Response.aclose()`` / ``aiter_raw()`` check for them.

    Args:
        inner: The original stream.
        provider: The provider's name, recorded on mapped errors.
        deadline: The attempt's absolute deadline on ``clock`` (``per_attempt`` and
            the call's deadline), or ``None``.
        clock: The clock of ``deadline``.
        abort: The hop's `Abort`, when another thread may stop it.
    """

    def __init__(
        self,
        inner: Any,
        provider: str | None,
        *,
        deadline: float | None = None,
        clock: Clock | None = None,
        abort: Abort | None = None,
    ) -> None:
        self._inner = inner
        self._provider = provider
        self._callbacks: list[EndCallback] = []
        self._ait: AsyncIterator[bytes] | None = None
        self._it: Iterator[bytes] | None = None
        self._outcome: bool | None = None
        self._ended = False
        self._deferred = False
        self._exhausted = False
        self.deadline = deadline
        self._bound = (
            Bound(deadline, clock, abort)
            if clock is not None and (deadline is not None or abort is not None)
            else None
        )

    # -- verdicts ----------------------------------------------------------------

    def add(self, callback: EndCallback) -> None:
        """
        Call ``callback(outcome)`` when the body ends (at once if it already has).
        """
        if self._ended:
            callback(self._outcome)
        else:
            self._callbacks.append(callback)

    def defer(self) -> None:
        """
        Let the reader judge the body: reaching its end no longer settles it.
        """
        self._deferred = True

    def settle(self, outcome: bool | None) -> None:
        """
        The body's verdict (once; later calls and ends are ignored).
        """
        self._end(outcome)

    @property
    def exhausted(self) -> bool:
        """
        True once the inner stream has been read to its end.
        """
        return self._exhausted

    def _end(self, outcome: bool | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._outcome = outcome
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            try:
                cb(outcome)
            except Exception:  # pragma: no cover - our callbacks do not raise
                logger.exception("stream end callback failed")

    def _at_end(self) -> None:
        self._exhausted = True
        if not self._deferred:
            self._end(True)

    def _fail(self, exc: Exception) -> NoReturn:
        """Record the failure, then raise ``exc`` as ours (or as is)."""
        self._end(False)
        ours = map_exception(exc, provider=self._provider)
        if ours is None:
            raise exc
        raise ours from exc

    def _bound_for(self, deadline: float | None) -> Bound | None:
        bound = self._bound
        if deadline is None or bound is None:
            return bound
        if bound.at is None or deadline < bound.at:
            return Bound(deadline, bound.clock, bound.abort)
        return bound

    # -- async -----------------------------------------------------------------

    def __aiter__(self) -> ObservedStream:
        # httpx calls this twice (``stream.__aiter__()`` then ``async for``):
        # one iterator over the inner stream serves both.
        if self._ait is None:
            self._ait = self._inner.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read_async()
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    async def read_async(self, deadline: float | None = None) -> bytes | None:
        """
        The next chunk (``None`` at the end), read by ``deadline`` at the latest.

        Args:
            deadline: A tighter absolute deadline for this read (a stream's first
                event or idle bound), on the attempt's clock.

        Raises:
            APITimeoutError: The read passed its bound.
            APIConnectionError: The connection failed or broke.
        """
        if self._ait is None:
            self._ait = self._inner.__aiter__()
        bound = self._bound if deadline is None else self._bound_for(deadline)
        token = enter_bound(bound) if bound is not None else None
        try:
            chunk: bytes = await self._ait.__anext__()
        except StopAsyncIteration:
            self._at_end()
            return None
        except Exception as exc:
            self._fail(exc)
        finally:
            if token is not None:
                leave_bound(token)
        return chunk

    async def aclose(self) -> None:
        """
        Close the inner stream; before the end, the outcome is ``None``.
        """
        try:
            await self._inner.aclose()
        except Exception as exc:
            ours = map_exception(exc, provider=self._provider)
            if ours is None:
                raise
            raise ours from exc
        finally:
            self._end(None)

    # -- sync ------------------------------------------------------------------

    def __iter__(self) -> ObservedStream:
        if self._it is None:
            self._it = iter(self._inner)
        return self

    def __next__(self) -> bytes:
        chunk = self.read_sync()
        if chunk is None:
            raise StopIteration
        return chunk

    def read_sync(self, deadline: float | None = None) -> bytes | None:
        """
        The next chunk (``None`` at the end); see `read_async`.
        """
        if self._it is None:
            self._it = iter(self._inner)
        bound = self._bound if deadline is None else self._bound_for(deadline)
        token = enter_bound(bound) if bound is not None else None
        try:
            chunk: bytes = next(self._it)
        except StopIteration:
            self._at_end()
            return None
        except Exception as exc:
            self._fail(exc)
        finally:
            if token is not None:
                leave_bound(token)
        return chunk

    def close(self) -> None:
        """
        Close the inner stream; before the end, the outcome is ``None``.
        """
        try:
            self._inner.close()
        except Exception as exc:
            ours = map_exception(exc, provider=self._provider)
            if ours is None:
                raise
            raise ours from exc
        finally:
            self._end(None)

    def __repr__(self) -> str:
        return f"<ObservedStream provider={self._provider!r} ended={self._ended}>"


def _library_class(response: Any) -> type[ObservedStream]:
    for base in type(response).__mro__:
        root = base.__module__.partition(".")[0]
        if root in ("httpx2", "httpx"):
            break
    else:
        root = "httpx2"

    def build() -> type[ObservedStream]:
        mod = importlib.import_module(root)
        return type(
            "ObservedStream",
            (ObservedStream, mod.AsyncByteStream, mod.SyncByteStream),
            {"__module__": __name__},
        )

    return RUNTIME.cached(("observed-stream", root), build)


def wrap_response(
    response: Any,
    provider: str | None,
    *,
    deadline: float | None = None,
    clock: Clock | None = None,
    abort: Abort | None = None,
) -> ObservedStream | None:
    """
    Replace ``response.stream`` with an `ObservedStream` and return it.

    Args:
        response: An httpx2 or httpx response whose body has not been read.
        provider: The provider's name, for mapped errors.
        deadline: The attempt's absolute deadline for every body read.
        clock: The clock of ``deadline``.
        abort: The hop's `Abort`, if any.

    Returns:
        The wrapper, or ``None`` when the body is already in memory (then there
        is nothing left to observe: it ended well).
    """
    if response.is_closed:
        return None
    kind = type(response)
    cls = RUNTIME.cached(("observed-for", kind), lambda: _library_class(response))
    stream = cls(response.stream, provider, deadline=deadline, clock=clock, abort=abort)
    response.stream = stream
    return stream


def observed(response: Any) -> ObservedStream | None:
    """
    ``response``'s `ObservedStream`, or ``None`` when it has none.
    """
    stream = response.stream
    return stream if isinstance(stream, ObservedStream) else None


def observe(response: Any, callback: EndCallback) -> None:
    """
    Call ``callback(outcome)`` when ``response``'s body ends.

    A body that is not observed counts as read to the end, so the callback runs
    at once with ``True``.
    """
    stream = response.stream
    if not isinstance(stream, ObservedStream):
        callback(True)
    elif stream._ended:
        callback(stream._outcome)
    else:
        stream._callbacks.append(callback)  # `add`, without a call per layer
