"""
`build_http_client()`: an httpx2 (or httpx) client whose transport is a resilience
stack, for the official SDKs; our errors also become the HTTP library's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast, overload

from .._clock import SYSTEM_CLOCK
from .._runtime import RUNTIME
from .._transports.base import Layer
from .._transports.pool import Flavor, library
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import APITimeoutError, HolySheepError

if TYPE_CHECKING:
    import httpx
    import httpx2

    from .._config import ClientConfig
    from .._resilience.stack import Hooks

__all__ = ["as_library_error", "build_http_client"]


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
    ours = type(exc)
    cls: type[Exception] = RUNTIME.cached(
        ("hybrid-error", ours, base),
        lambda: type(ours.__name__, (ours, base), {"__module__": ours.__module__}),
    )
    copy: Exception = cls.__new__(cls, *exc.args)
    copy.__dict__.update(exc.__dict__)
    copy.__dict__["_request"] = request
    return copy


class _ClientTransport(Layer):
    """
    The transport of a `build_http_client` client: the stack, with its errors also
    made instances of the HTTP library's (see `as_library_error`).
    """

    def __init__(self, stack: AsyncTransport | SyncTransport, lib: Any) -> None:
        super().__init__(stack)
        self._lib = lib

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._ainner.handle_async_request(request)
        except HolySheepError as exc:
            raise as_library_error(exc, self._lib, request) from exc

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._sinner.handle_request(request)
        except HolySheepError as exc:
            raise as_library_error(exc, self._lib, request) from exc

    def __repr__(self) -> str:
        return f"<ClientTransport stack={self._ainner!r}>"


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
    from .._resilience.stack import build_transport_stack

    lib = library(flavor)
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
