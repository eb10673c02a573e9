"""
Pool transports over httpx2 (the default) or httpx, and `build_http_client()`.

The pool transport is the bottom of every stack: one connection pool per
provider, with `PoolConfig`'s limits and HTTP/2 when asked for and ``h2`` is
installed. Timeouts travel per request in httpx's ``timeout`` extension, which
the stack's attempt layer sets (``connect``, and ``per_attempt`` for read, write
and pool waits, capped by the time left before the deadline).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any, Literal

from .._observe.log import logger
from .base import Layer

if TYPE_CHECKING:
    import httpx2

    from .._config import PoolConfig

__all__ = ["Flavor", "PoolTransport", "build_pool_transport", "h2_available", "library"]

Flavor = Literal["httpx2", "httpx"]


def library(flavor: str) -> Any:
    if flavor not in ("httpx2", "httpx"):
        raise ValueError(f"flavor must be 'httpx2' or 'httpx', not {flavor!r}")
    return importlib.import_module(flavor)


def h2_available() -> bool:
    """
    Whether the ``h2`` package (needed for HTTP/2) is installed.
    """
    return importlib.util.find_spec("h2") is not None


class PoolTransport(Layer):
    """
    A provider's connection pool: an httpx2 or httpx HTTP transport with our limits.

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
        limits = lib.Limits(
            max_connections=pool.max_connections,
            max_keepalive_connections=pool.max_keepalive_connections,
            keepalive_expiry=pool.keepalive_expiry,
        )
        cls = lib.HTTPTransport if sync else lib.AsyncHTTPTransport
        self._transport: Any = cls(limits=limits, http2=self.http2, retries=0)
        super().__init__(self._transport)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request on the pool (the body still streaming).
        """
        response: httpx2.Response = await self._transport.handle_async_request(request)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request on the pool (the body still streaming).
        """
        response: httpx2.Response = self._transport.handle_request(request)
        return response

    def __repr__(self) -> str:
        return (
            f"<PoolTransport flavor={self.flavor} max_connections={self.max_connections}"
            f" max_keepalive_connections={self.max_keepalive_connections}"
            f" http2={self.http2}>"
        )


def build_pool_transport(
    pool: PoolConfig, *, sync: bool = False, flavor: Flavor = "httpx2"
) -> PoolTransport:
    """
    A `PoolTransport` for ``pool``.

    Raises:
        ValueError: ``flavor`` is not ``"httpx2"`` or ``"httpx"``.
    """
    return PoolTransport(pool, sync=sync, flavor=flavor)
