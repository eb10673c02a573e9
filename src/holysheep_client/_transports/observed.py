"""
ObservedStream: a response body that maps transport errors and reports how it ended.

The attempt layer wraps every streamed response body in one. Layers above it
register a callback (the bulkhead frees its slot, the breaker records its
verdict) that runs once, when the body ends:

- ``True``: read to the end;
- ``False``: reading failed (the error is re-raised as ours, `APIConnectionError`
  or `APITimeoutError`, chained ``from`` the upstream one);
- ``None``: closed before the end, or the read was cancelled.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn

from .._observe.log import logger
from ..errors import map_exception

__all__ = ["EndCallback", "ObservedStream", "observe", "wrap_response"]

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
    """

    def __init__(self, inner: Any, provider: str | None) -> None:
        self._inner = inner
        self._provider = provider
        self._callbacks: list[EndCallback] = []
        self._ait: AsyncIterator[bytes] | None = None
        self._it: Iterator[bytes] | None = None
        self._outcome: bool | None = None
        self._ended = False

    def add(self, callback: EndCallback) -> None:
        """
        Call ``callback(outcome)`` when the body ends (at once if it already has).
        """
        if self._ended:
            callback(self._outcome)
        else:
            self._callbacks.append(callback)

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

    def _fail(self, exc: Exception) -> NoReturn:
        """Record the failure, then raise ``exc`` as ours (or as is)."""
        self._end(False)
        ours = map_exception(exc, provider=self._provider)
        if ours is None:
            raise exc
        raise ours from exc

    # -- async -----------------------------------------------------------------

    def __aiter__(self) -> ObservedStream:
        # httpx calls this twice (``stream.__aiter__()`` then ``async for``):
        # one iterator over the inner stream serves both.
        if self._ait is None:
            self._ait = self._inner.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        if self._ait is None:
            self._ait = self._inner.__aiter__()
        try:
            chunk: bytes = await self._ait.__anext__()
        except StopAsyncIteration:
            self._end(True)
            raise
        except Exception as exc:
            self._fail(exc)
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
        if self._it is None:
            self._it = iter(self._inner)
        try:
            chunk: bytes = next(self._it)
        except StopIteration:
            self._end(True)
            raise
        except Exception as exc:
            self._fail(exc)
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


_CLASSES: dict[str, type[ObservedStream]] = {}
_BY_TYPE: dict[type[Any], type[ObservedStream]] = {}


def _observed_class(response: Any) -> type[ObservedStream]:
    cls = _BY_TYPE.get(type(response))
    if cls is None:
        cls = _BY_TYPE[type(response)] = _library_class(response)
    return cls


def _library_class(response: Any) -> type[ObservedStream]:
    for base in type(response).__mro__:
        root = base.__module__.partition(".")[0]
        if root in ("httpx2", "httpx"):
            break
    else:
        root = "httpx2"
    cls = _CLASSES.get(root)
    if cls is None:
        mod = importlib.import_module(root)
        cls = type(
            "ObservedStream",
            (ObservedStream, mod.AsyncByteStream, mod.SyncByteStream),
            {"__module__": __name__},
        )
        _CLASSES[root] = cls
    return cls


def wrap_response(response: Any, provider: str | None) -> ObservedStream | None:
    """
    Replace ``response.stream`` with an `ObservedStream`.

    Args:
        response: An httpx2 or httpx response whose body has not been read.
        provider: The provider's name, for mapped errors.

    Returns:
        The wrapper, or ``None`` when the body is already in memory (then there
        is nothing left to observe: it ended well).
    """
    if response.is_closed:
        return None
    stream = _observed_class(response)(response.stream, provider)
    response.stream = stream
    return stream


def observe(response: Any, callback: EndCallback) -> None:
    """
    Call ``callback(outcome)`` when ``response``'s body ends.

    A body that is not observed (already in memory) counts as read to the end,
    so the callback runs at once with ``True``.
    """
    stream = response.stream
    if isinstance(stream, ObservedStream):
        stream.add(callback)
    else:
        callback(True)
