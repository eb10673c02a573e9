"""
The pool transport: one httpcore connection pool per provider, under httpx2 (the
default) or httpx requests and responses.

It does what ``httpx2.HTTPTransport`` does (the same pool, the same conversion of
requests, responses and httpcore's exceptions into the HTTP library's), through
httpcore's public API, with one difference: the pool runs on the network backend
of `holysheep_client._transports.deadline`, so that every socket operation gets
only the time left before the request's bound. Per-phase timeouts travel as usual
in httpx's ``timeout`` extension, which the attempt layer sets.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from .._observe.log import logger
from .._runtime import RUNTIME
from .base import Layer
from .deadline import CORES, deadline_backend
from .libraries import Flavor, h2_available, library, ssl_context

if TYPE_CHECKING:
    import httpx2

    from .._config import PoolConfig

__all__ = [
    "Flavor",
    "PoolTransport",
    "build_pool_transport",
    "h2_available",
    "library",
    "ssl_context",
]

# httpcore's exceptions, by name, most specific first: each becomes the HTTP
# library's class of the same name (what httpx's own transport does).
_EXCEPTIONS: tuple[str, ...] = (
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "TimeoutException",
    "ConnectError",
    "ReadError",
    "WriteError",
    "NetworkError",
    "ProxyError",
    "UnsupportedProtocol",
    "LocalProtocolError",
    "RemoteProtocolError",
    "ProtocolError",
)


def _exception_map(flavor: str) -> list[tuple[type[Exception], type[Exception]]]:
    def build() -> list[tuple[type[Exception], type[Exception]]]:
        core = importlib.import_module(CORES[flavor])
        lib = library(flavor)
        return [(getattr(core, n), getattr(lib, n)) for n in _EXCEPTIONS]

    return RUNTIME.cached(("pool-exceptions", flavor), build)


def _library_error(exc: Exception, pairs: list[tuple[Any, Any]]) -> Exception | None:
    for core_cls, lib_cls in pairs:
        if isinstance(exc, core_cls):
            mapped: Exception = lib_cls(str(exc))
            return mapped
    return None


class _SyncBody:
    """httpcore's sync body as the library's ``SyncByteStream``, errors mapped."""

    __slots__ = ("_inner", "_pairs")

    def __init__(self, inner: Any, pairs: list[tuple[Any, Any]]) -> None:
        self._inner = inner
        self._pairs = pairs

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except Exception as exc:
            mapped = _library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc

    def close(self) -> None:
        self._inner.close()


class _AsyncBody:
    """httpcore's async body as the library's ``AsyncByteStream``, errors mapped."""

    __slots__ = ("_inner", "_pairs")

    def __init__(self, inner: Any, pairs: list[tuple[Any, Any]]) -> None:
        self._inner = inner
        self._pairs = pairs

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            mapped = _library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def _body_classes(lib: Any) -> tuple[type[Any], type[Any]]:
    def build() -> tuple[type[Any], type[Any]]:
        sync = type("PoolBody", (_SyncBody, lib.SyncByteStream), {"__slots__": ()})
        asyn = type("PoolBody", (_AsyncBody, lib.AsyncByteStream), {"__slots__": ()})
        return sync, asyn

    return RUNTIME.cached(("pool-bodies", lib.__name__), build)


class PoolTransport(Layer):
    """
    A provider's connection pool, with `PoolConfig`'s limits and the deadline backend.

    Args:
        pool: ``max_connections``, ``max_keepalive_connections``,
            ``keepalive_expiry`` and ``http2``.
        sync: Build the sync transport (``handle_request``) instead of the async one.
        flavor: ``"httpx2"`` (default, shared with the official SDKs) or ``"httpx"``.
    """

    def __init__(
        self, pool: PoolConfig, *, sync: bool = False, flavor: Flavor = "httpx2"
    ) -> None:
        lib = library(flavor)
        core = importlib.import_module(CORES[flavor])
        self.flavor = flavor
        self.sync = sync
        self.max_connections = pool.max_connections
        self.max_keepalive_connections = pool.max_keepalive_connections
        self.keepalive_expiry = pool.keepalive_expiry
        self.http2 = pool.http2 and h2_available()
        if pool.http2 and not self.http2:
            logger.warning(
                "http2 is enabled but the h2 package is missing; using HTTP/1.1"
            )
        cls = core.ConnectionPool if sync else core.AsyncConnectionPool
        self._pool: Any = cls(
            ssl_context=ssl_context(flavor),
            max_connections=pool.max_connections,
            max_keepalive_connections=pool.max_keepalive_connections,
            keepalive_expiry=pool.keepalive_expiry,
            http1=True,
            http2=self.http2,
            retries=0,
            network_backend=deadline_backend(core, sync=sync),
        )
        self._lib = lib
        self._core = core
        self._pairs = _exception_map(flavor)
        self._sync_body, self._async_body = _body_classes(lib)
        super().__init__(self._pool)

    def _core_request(self, request: httpx2.Request) -> Any:
        url = request.url
        return self._core.Request(
            method=request.method,
            url=self._core.URL(
                scheme=url.raw_scheme,
                host=url.raw_host,
                port=url.port,
                target=url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request on the pool (the body still streaming).

        Raises:
            httpx2.TransportError: As ``httpx2.AsyncHTTPTransport`` raises them.
        """
        try:
            resp = await self._pool.handle_async_request(self._core_request(request))
        except Exception as exc:
            mapped = _library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc
        response: httpx2.Response = self._lib.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=self._async_body(resp.stream, self._pairs),
            extensions=resp.extensions,
        )
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request on the pool (the body still streaming).

        Raises:
            httpx2.TransportError: As ``httpx2.HTTPTransport`` raises them.
        """
        try:
            resp = self._pool.handle_request(self._core_request(request))
        except Exception as exc:
            mapped = _library_error(exc, self._pairs)
            if mapped is None:
                raise
            raise mapped from exc
        response: httpx2.Response = self._lib.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=self._sync_body(resp.stream, self._pairs),
            extensions=resp.extensions,
        )
        return response

    def __repr__(self) -> str:
        return (
            f"<PoolTransport flavor={self.flavor} max_connections={self.max_connections}"
            f" max_keepalive_connections={self.max_keepalive_connections}"
            f" http2={self.http2}>"
        )


def build_pool_transport(
    pool: PoolConfig, *, sync: bool = False, flavor: Flavor = "httpx2"
) -> Any:
    """
    The pool transport for ``pool``: for an async stack with ``backend="aiohttp"``
    (the default) an `AiohttpPoolTransport`, else a `PoolTransport` (httpcore).

    Raises:
        ValueError: ``flavor`` is not ``"httpx2"`` or ``"httpx"``.
        ModuleNotFoundError: ``backend="aiohttp"`` without aiohttp installed; the
            message says how to install it or leave it.
    """
    library(flavor)
    if pool.backend == "aiohttp" and not sync:
        if importlib.util.find_spec("aiohttp") is None:
            raise ModuleNotFoundError(
                "PoolConfig(backend='aiohttp') needs aiohttp, a dependency of"
                " holysheep-client: reinstall it (pip install 'aiohttp>=3.10'), or"
                " choose PoolConfig(backend='httpcore')",
                name="aiohttp",
            )
        from .aiohttp_pool import AiohttpPoolTransport

        return AiohttpPoolTransport(pool, flavor=flavor)
    return PoolTransport(pool, sync=sync, flavor=flavor)
