"""
AiohttpPoolTransport: the async pool on aiohttp's connector, under httpx2 (or httpx)
requests and responses (``PoolConfig(backend="aiohttp")``, the default for async
stacks: it costs a fraction of httpcore's CPU per call, and stays flat with the
number of connections; see ``docs/performance.md``).

It keeps the httpcore pool's contract: `PoolConfig`'s limits, keep-alive and
timeouts; the body streams as it arrives; aiohttp's exceptions become the HTTP
library's (`aiohttp_errors`); and the request's `Bound` holds every call to its
deadline. Where httpcore's pool clamps each socket operation, this one arms one
timer per response: while the headers are awaited it cancels the wait at the
bound, and while the body is read it fails the pending read at the bound of that
read (``set_exception`` on aiohttp's stream), so a server dripping bytes cannot
stretch a call. The timer is lazy: a later bound (a stream's idle bound) only
moves a deadline the timer checks when it fires, so reads arm nothing.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._observe.log import logger
from .._runtime import RUNTIME
from .aiohttp_connector import connector_class
from .aiohttp_errors import library_error, upstream_pairs
from .aiohttp_timers import Expiry, Watch
from .deadline import Bound, current_bound
from .libraries import Flavor, library, ssl_context

if TYPE_CHECKING:
    import httpx2

    from .._config import PoolConfig

__all__ = ["AiohttpPoolTransport"]

_HTTP_VERSIONS = {0: b"HTTP/1.0", 1: b"HTTP/1.1"}
# What aiohttp would add on its own: the request carries the library's headers.
_SKIP_AUTO = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


class _Body:
    """aiohttp's response body as the library's ``AsyncByteStream``; see the module."""

    __slots__ = ("_done", "_lib", "_offset", "_pairs", "_resp", "_watch")

    def __init__(self, resp: Any, lib: Any, pairs: Any) -> None:
        self._resp = resp
        self._lib = lib
        self._pairs = pairs
        self._offset: float | None = None  # loop time minus the bound clock's
        self._watch: Watch | None = None
        self._done = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        content = self._resp.content
        bound = current_bound()
        try:
            if bound is None:
                chunk: bytes = await content.readany()
            else:
                if bound.abort is not None and bound.abort.aborted:
                    raise self._lib.ReadError("the request was aborted")
                if bound.at is None or content.is_eof():
                    # No deadline, or the whole body is in (aiohttp fed its end):
                    # the read returns at once, no timer needed.
                    chunk = await content.readany()
                else:  # inline, not a coroutine of its own: one frame less per read
                    watch = self._arm(content, bound)
                    try:
                        chunk = await content.readany()
                    finally:
                        watch.due = None
        except Exception as exc:
            self._close()
            mapped = library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc
        if chunk:
            return chunk
        self._done = True
        if self._watch is not None:
            self._watch.cancel()
        raise StopAsyncIteration

    def _arm(self, content: Any, bound: Bound) -> Watch:
        """The watch of this read, armed for ``bound`` (raises when it has passed)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        offset = self._offset
        if offset is None:
            offset = self._offset = now - bound.clock.monotonic()
        due = bound.at + offset  # type: ignore[operator]
        if due <= now:
            raise self._lib.ReadTimeout("the request's deadline passed")
        watch = self._watch
        if watch is None:
            watch = self._watch = Watch(loop, content, self._lib)
        watch.expect(due)
        return watch

    def _close(self) -> None:
        self._done = True
        if self._watch is not None:
            self._watch.cancel()
        self._resp.close()

    async def aclose(self) -> None:
        if not self._done:
            self._close()  # an unread rest: the connection cannot be reused
        elif self._watch is not None:
            self._watch.cancel()


def _body_class(lib: Any) -> type[Any]:
    return RUNTIME.cached(
        ("aiohttp-body", lib.__name__),
        lambda: type("PoolBody", (_Body, lib.AsyncByteStream), {"__slots__": ()}),
    )


class AiohttpPoolTransport:
    """
    A provider's async pool on aiohttp, with `PoolConfig`'s limits and our bounds.

    The session is opened on the first request, on the running loop (aiohttp
    binds it to one loop). HTTP/2 is not available on this backend: asking for it
    logs a warning and speaks HTTP/1.1.

    Args:
        pool: ``max_connections``, ``max_keepalive_connections`` and
            ``keepalive_expiry``.
        flavor: The library whose requests and responses it takes and gives.
    """

    def __init__(self, pool: PoolConfig, *, flavor: Flavor = "httpx2") -> None:
        importlib.import_module("aiohttp")  # fail here, not on the first request
        self.flavor = flavor
        self.sync = False
        self.max_connections = pool.max_connections
        self.max_keepalive_connections = pool.max_keepalive_connections
        self.keepalive_expiry = pool.keepalive_expiry
        self.http2 = False
        if pool.http2:
            logger.warning("http2 is not available on the aiohttp pool; using HTTP/1.1")
        self._lib = library(flavor)
        self._pairs = upstream_pairs(self._lib)
        self._body = _body_class(self._lib)
        self._session: Any = None
        self._urls: dict[str, Any] = {}
        self._timeouts: dict[tuple[float | None, ...], Any] = {}

    def _open(self) -> Any:
        import aiohttp

        keep = self.max_keepalive_connections > 0
        connector = connector_class()(
            max_idle=self.max_keepalive_connections,
            expiry=self.keepalive_expiry,
            limit=self.max_connections,
            limit_per_host=0,
            force_close=not keep,
            keepalive_timeout=self.keepalive_expiry if keep else None,
            ssl=ssl_context(self.flavor),
            # Exact deadlines: aiohttp rounds longer timeouts up to a second.
            timeout_ceil_threshold=float("inf"),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # the library decodes, as over httpcore
            skip_auto_headers=_SKIP_AUTO,
            timeout=aiohttp.ClientTimeout(total=None),
            requote_redirect_url=False,
            read_bufsize=2**16,
        )
        return self._session

    def _url(self, request: httpx2.Request) -> Any:
        text = str(request.url)
        url = self._urls.get(text)
        if url is None:
            import yarl

            if len(self._urls) > 256:
                self._urls.clear()
            url = self._urls[text] = yarl.URL(text, encoded=True)
        return url

    def _timeout(self, ext: dict[str, Any], bounded: bool) -> Any:
        """aiohttp's timeout from httpx's ``timeout`` extension.

        Under a bound only ``connect`` is aiohttp's (the bound covers the rest);
        without one, ``read`` is its per-read timeout and ``pool`` its wait for
        a connection, as httpx reads them.
        """
        t = ext.get("timeout") or {}
        connect, read, pool = t.get("connect"), t.get("read"), t.get("pool")
        key = (connect,) if bounded else (connect, read, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            import aiohttp

            if len(self._timeouts) > 64:
                self._timeouts.clear()
            if bounded:
                timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect)
            else:
                timeout = aiohttp.ClientTimeout(
                    total=None,
                    connect=None if pool is None or connect is None else pool + connect,
                    sock_connect=connect,
                    sock_read=read,
                )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request on the pool (the body still streaming).

        Raises:
            httpx2.TransportError: aiohttp's errors as the library's; a passed
                bound as ``ReadTimeout``.
        """
        lib = self._lib
        session = self._session or self._open()
        headers = request.headers.multi_items()
        try:
            data: Any = request.content
        except lib.RequestNotRead:
            # aiohttp chunks a body of unknown length itself, and refuses the header.
            data = _chunks(request.stream)
            headers = [h for h in headers if h[0].lower() != "transfer-encoding"]
        bound = current_bound()
        loop = asyncio.get_running_loop()
        due: float | None = None
        if bound is not None:
            if bound.abort is not None and bound.abort.aborted:
                raise lib.ConnectError("the request was aborted")
            if bound.at is not None:
                now = bound.clock.monotonic()
                if bound.at <= now:
                    raise lib.ConnectTimeout("the request's deadline passed")
                due = loop.time() + (bound.at - now)
        send = session.request(
            request.method,
            self._url(request),
            headers=headers,
            data=data,
            allow_redirects=False,
            timeout=self._timeout(request.extensions, bound is not None),
        )
        try:
            if due is None:
                resp = await send
            else:  # inline, not a coroutine or context manager: no frame per wake-up
                task = asyncio.current_task()
                assert task is not None  # a request runs in a task
                expiry = Expiry(task)
                handle = loop.call_at(due, expiry)
                try:
                    resp = await send
                except asyncio.CancelledError:
                    if expiry.ours():
                        raise TimeoutError from None
                    raise
                finally:
                    handle.cancel()
                if expiry.fired:  # as the headers came: take it back
                    await expiry.absorb()
        except TimeoutError as exc:
            mapped = library_error(exc, self._pairs)
            if mapped is None:  # our bound, not one of aiohttp's timeouts
                mapped = lib.ReadTimeout("the request's deadline passed")
            raise mapped from exc
        except Exception as exc:
            mapped = library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc
        response: httpx2.Response = lib.Response(
            status_code=resp.status,
            headers=resp.raw_headers,
            stream=self._body(resp, lib, self._pairs),
            extensions={"http_version": _HTTP_VERSIONS.get(resp.version.minor)},
        )
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Refused: this pool is async only (the sync client keeps httpcore).
        """
        raise TypeError("the aiohttp pool is async only; sync stacks use httpcore")

    async def aclose(self) -> None:
        """
        Close the session and its connections.
        """
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def close(self) -> None:
        """
        Nothing to close synchronously (the session is async).
        """

    async def __aenter__(self) -> AiohttpPoolTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"<AiohttpPoolTransport flavor={self.flavor}"
            f" max_connections={self.max_connections}"
            f" max_keepalive_connections={self.max_keepalive_connections}>"
        )


async def _chunks(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk
