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
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ._clock import SYSTEM_CLOCK
from ._hooks import logger
from ._resilience.layer import Layer
from ._types import AsyncTransport, Clock, SyncTransport
from .errors import APITimeoutError, HolySheepError

if TYPE_CHECKING:
    import httpx
    import httpx2

    from ._config import ClientConfig, PoolConfig
    from ._resilience.stack import Hooks

__all__ = [
    "Flavor",
    "PoolTransport",
    "SharedAsyncTransport",
    "SharedSyncTransport",
    "build_http_client",
    "build_pool_transport",
]

Flavor = Literal["httpx2", "httpx"]


def _library(flavor: str) -> Any:
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
        lib = _library(flavor)
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


class SharedAsyncTransport(Layer):
    """
    A view of a client's async stack whose ``aclose()`` leaves the stack open.

    Args:
        stack: The stack to share.
    """

    def __init__(self, stack: AsyncTransport) -> None:
        super().__init__(stack)
        self._stack = stack

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` through the shared stack.
        """
        return await self._stack.handle_async_request(request)

    async def aclose(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def close(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def __repr__(self) -> str:
        return f"<SharedAsyncTransport stack={self._stack!r}>"


class SharedSyncTransport(Layer):
    """
    A view of a client's sync stack whose ``close()`` leaves the stack open.

    Args:
        stack: The stack to share.
    """

    def __init__(self, stack: SyncTransport) -> None:
        super().__init__(stack)
        self._stack = stack

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` through the shared stack.
        """
        return self._stack.handle_request(request)

    def close(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    async def aclose(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def __repr__(self) -> str:
        return f"<SharedSyncTransport stack={self._stack!r}>"


_HYBRIDS: dict[tuple[type[BaseException], type[BaseException]], type[Exception]] = {}


def as_library_error(exc: HolySheepError, lib: Any, request: Any) -> Exception:
    """
    ``exc`` as an instance of both its own class and the library's transport error.

    The official SDKs turn ``httpx2.TimeoutException`` into their timeout error and
    other ``httpx2.RequestError`` into their connection error (openai lets any other
    exception through unwrapped). A copy of ``exc`` whose class derives from both,
    under the same name, is caught by the SDK as the library error and still
    matches ``except CircuitOpenError`` (or whichever it was) on ``__cause__``.

    Args:
        exc: Our error: `APIConnectionError`, `APITimeoutError`, `CircuitOpenError`
            or a local `RateLimitError`.
        lib: The ``httpx2`` or ``httpx`` module.
        request: The request, recorded on the copy like the library does.

    Returns:
        The copy, carrying the same attributes.
    """
    base = (
        lib.TimeoutException if isinstance(exc, APITimeoutError) else lib.TransportError
    )
    key = (type(exc), base)
    cls = _HYBRIDS.get(key)
    if cls is None:
        cls = type(
            type(exc).__name__, (type(exc), base), {"__module__": type(exc).__module__}
        )
        _HYBRIDS[key] = cls
    copy: Exception = cls.__new__(cls, *exc.args)
    copy.__dict__.update(exc.__dict__)
    copy.__dict__["_request"] = request
    return copy


class _ClientTransport(Layer):
    """
    The transport of a `build_http_client` client: the stack, with its errors also
    made instances of the HTTP library's (see `as_library_error`).
    """

    def __init__(self, stack: Any, lib: Any) -> None:
        super().__init__(stack)
        self._stack = stack
        self._lib = lib

    async def handle_async_request(self, request: Any) -> Any:
        try:
            return await self._stack.handle_async_request(request)
        except HolySheepError as exc:
            raise as_library_error(exc, self._lib, request) from exc

    def handle_request(self, request: Any) -> Any:
        try:
            return self._stack.handle_request(request)
        except HolySheepError as exc:
            raise as_library_error(exc, self._lib, request) from exc

    def __repr__(self) -> str:
        return f"<ClientTransport stack={self._stack!r}>"


@overload
def build_http_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: Literal[False] = ...,
    flavor: Literal["httpx2"] = ...,
    clock: Clock = ...,
    hooks: Hooks = ...,
) -> httpx2.AsyncClient: ...


@overload
def build_http_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: Literal[True],
    flavor: Literal["httpx2"] = ...,
    clock: Clock = ...,
    hooks: Hooks = ...,
) -> httpx2.Client: ...


@overload
def build_http_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: Literal[False] = ...,
    flavor: Literal["httpx"],
    clock: Clock = ...,
    hooks: Hooks = ...,
) -> httpx.AsyncClient: ...


@overload
def build_http_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: Literal[True],
    flavor: Literal["httpx"],
    clock: Clock = ...,
    hooks: Hooks = ...,
) -> httpx.Client: ...


def build_http_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: bool = False,
    flavor: Flavor = "httpx2",
    clock: Clock = SYSTEM_CLOCK,
    hooks: Hooks = None,
) -> httpx2.AsyncClient | httpx2.Client | httpx.AsyncClient | httpx.Client:
    """
    An HTTP client whose transport is a fresh resilience stack for ``provider``.

    Hand it to an official SDK, with the SDK's own retries off::

        http = build_http_client(config, provider="holysheep")
        anthropic.AsyncAnthropic(base_url=..., api_key=..., http_client=http, max_retries=0)

    The client adds no key and no base URL (the SDK sends its own). Its timeout
    mirrors `TimeoutConfig` (``connect``; ``per_attempt`` for read, write and
    pool): the SDKs adopt a custom client's timeout as their default, so they
    announce the same values the stack enforces. The stack sets each attempt's
    timeouts itself, from the config and the deadline, so a per-request
    ``timeout=`` given to the SDK does not change them; ``timeout.total`` is the
    deadline of each request.

    Args:
        config: The client configuration (its breaker, retry, limits, timeouts).
        provider: Whose pool, breaker and rate limit to use.
        sync: Return a sync client.
        flavor: ``"httpx2"`` (the official SDKs need it) or ``"httpx"``.
        clock: The time source and sleeper.
        hooks: Hooks for attempts, retries, waits and breaker transitions.

    Returns:
        An ``httpx2.AsyncClient``, ``httpx2.Client``, ``httpx.AsyncClient`` or
        ``httpx.Client``.

    Raises:
        ConfigError: No provider has that name.
    """
    from ._resilience.stack import build_transport_stack

    lib = _library(flavor)
    stack = build_transport_stack(
        config, provider, sync=sync, flavor=flavor, clock=clock, hooks=hooks
    )
    t = config.timeout
    timeout = lib.Timeout(
        connect=t.connect, read=t.per_attempt, write=t.per_attempt, pool=t.per_attempt
    )
    cls = lib.Client if sync else lib.AsyncClient
    client = cls(transport=_ClientTransport(stack, lib), timeout=timeout)
    return cast("httpx2.AsyncClient", client)
