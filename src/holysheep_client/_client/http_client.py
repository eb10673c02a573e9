"""
`build_http_client()`: an httpx2 (or httpx) client whose transport is a resilience
stack, for the official SDKs; our errors also become the HTTP library's, or the
SDK's own, naming the provider and the reason. `build_sdk_client()` builds the SDK
client itself, importing the SDK only then.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from .._clock import SYSTEM_CLOCK
from .._runtime import RUNTIME
from .._transports.base import Layer
from .._transports.libraries import Flavor, library
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    CircuitOpenError,
    ConfigError,
    HolySheepError,
    RateLimitError,
    StreamInterruptedError,
)

if TYPE_CHECKING:
    import httpx
    import httpx2

    from .._config import ClientConfig
    from .._resilience.stack import Hooks

__all__ = ["as_library_error", "build_http_client", "build_sdk_client", "import_sdk"]

SDK = Literal["anthropic", "openai"]


def import_sdk(name: SDK) -> ModuleType:
    """
    Import an official SDK, which is an extra of this package.

    Args:
        name: ``"anthropic"`` or ``"openai"``.

    Returns:
        The SDK's module.

    Raises:
        ModuleNotFoundError: The SDK is not installed; the message names the extra
            that installs it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"the official {name} SDK is not installed; install it with"
            f" pip install 'holysheep-client[{name}]' (or [sdks] for both SDKs)",
            name=name,
        ) from exc


def _sdk_of(request: Any) -> ModuleType | None:
    # Both SDKs mark their requests with x-stainless-* headers, and only Anthropic's
    # sends anthropic-version. An SDK that sent the request is already imported.
    headers = getattr(request, "headers", None)
    if headers is None or "x-stainless-lang" not in headers:
        return None
    return sys.modules.get("anthropic" if "anthropic-version" in headers else "openai")


def _reason(exc: HolySheepError) -> str:
    if isinstance(exc, CircuitOpenError):
        return "circuit breaker open"
    if isinstance(exc, RateLimitError):
        return "local rate limit"
    if isinstance(exc, APITimeoutError):
        return "deadline or timeout"
    if isinstance(exc, StreamInterruptedError):
        return "stream interrupted"
    if isinstance(exc, APIConnectionError):
        return "connection failed"
    return type(exc).__name__


def _message(exc: HolySheepError, provider: str | None = None) -> str:
    """
    One sentence naming the provider and the reason, then our message.
    """
    who = getattr(exc, "provider", None) or provider
    where = f" for provider {who!r}" if who else ""
    return f"holysheep_client: {_reason(exc)}{where}: {exc}"


def as_library_error(
    exc: HolySheepError, lib: Any, request: Any, *, provider: str | None = None
) -> Exception:
    """
    ``exc`` as an instance of both its own class and the library's (or SDK's) error.

    Under an official SDK (told by its request headers), the copy also derives from
    the SDK's ``APITimeoutError`` (for a timeout) or ``APIConnectionError``, which
    both SDKs raise as they are: the caller catches the SDK's class, reads our
    reason in its message, and finds ``exc`` on ``__cause__`` (the caller raises
    the copy ``from exc``). Otherwise the copy derives from the library's
    ``TimeoutException`` or ``TransportError``, as a transport's error would.
    Either way ``except CircuitOpenError`` (or whichever it was) still matches.

    Args:
        exc: Our error: `APIConnectionError`, `APITimeoutError`, `CircuitOpenError`
            or a local `RateLimitError`.
        lib: The ``httpx2`` or ``httpx`` module.
        request: The request, recorded on the copy like the library does.
        provider: The provider of the stack, named when ``exc`` does not say.

    Returns:
        The copy, carrying the same attributes and a message naming the provider
        and the reason.
    """
    timeout = isinstance(exc, APITimeoutError)
    sdk = _sdk_of(request)
    if sdk is not None:
        base = sdk.APITimeoutError if timeout else sdk.APIConnectionError
    else:
        base = lib.TimeoutException if timeout else lib.TransportError
    ours = type(exc)
    cls: type[Exception] = RUNTIME.cached(
        ("hybrid-error", ours, base),
        lambda: type(ours.__name__, (ours, base), {"__module__": ours.__module__}),
    )
    message = _message(exc, provider)
    copy: Exception = cls.__new__(cls, message)
    copy.__dict__.update(exc.__dict__)
    copy.__dict__["_request"] = request
    if sdk is not None:
        # What the SDK's own constructor would have set.
        copy.__dict__.update(
            request=request, body=None, code=None, param=None, type=None
        )
    copy.__dict__["message"] = message
    copy.args = (message,)
    return copy


class _ClientTransport(Layer):
    """
    The transport of a `build_http_client` client: the stack, with its errors also
    made instances of the HTTP library's (see `as_library_error`).
    """

    def __init__(
        self, stack: AsyncTransport | SyncTransport, lib: Any, provider: str
    ) -> None:
        super().__init__(stack)
        self._lib = lib
        self._provider = provider

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._ainner.handle_async_request(request)
        except HolySheepError as exc:
            raise as_library_error(
                exc, self._lib, request, provider=self._provider
            ) from exc

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._sinner.handle_request(request)
        except HolySheepError as exc:
            raise as_library_error(
                exc, self._lib, request, provider=self._provider
            ) from exc

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
    client = cls(transport=_ClientTransport(stack, lib, provider), timeout=timeout)
    return cast("httpx2.AsyncClient", client)


def build_sdk_client(
    config: ClientConfig,
    provider: str,
    *,
    sync: bool = False,
    clock: Clock = SYSTEM_CLOCK,
    hooks: Hooks = None,
    **options: Any,
) -> Any:
    """
    The official SDK client for ``provider``'s protocol, on a fresh resilience stack.

    ``protocol="anthropic"`` gives an ``anthropic.AsyncAnthropic`` (``Anthropic``
    with ``sync=True``), ``"openai"`` an ``openai.AsyncOpenAI`` (``OpenAI``), with
    the provider's base URL and key, `build_http_client` as its HTTP client and the
    SDK's own retries off (``max_retries=0``)::

        sdk = build_sdk_client(config, "holysheep")   # pip install 'holysheep-client[anthropic]'
        message = await sdk.messages.create(model=..., max_tokens=..., messages=...)

    Args:
        config: The client configuration.
        provider: Whose base URL, key, pool, breaker and rate limit to use.
        sync: Build the SDK's sync client.
        clock: The time source and sleeper.
        hooks: Hooks for attempts, retries, waits and breaker transitions.
        **options: Passed on to the SDK client's constructor.

    Returns:
        The SDK client.

    Raises:
        ConfigError: No provider has that name, or an Anthropic provider's base URL
            does not end in ``/v1`` (the Anthropic SDK adds ``/v1`` itself).
        ModuleNotFoundError: The SDK is not installed; the message names the extra.
    """
    p = config.provider(provider)
    sdk = import_sdk(p.protocol)
    base_url = p.base_url
    if p.protocol == "anthropic":
        if not base_url.endswith("/v1"):
            raise ConfigError(
                "base_url",
                "the anthropic SDK adds /v1 itself: expected a base_url ending in /v1",
            )
        base_url = base_url.removesuffix("/v1")
        cls = sdk.Anthropic if sync else sdk.AsyncAnthropic
    else:
        cls = sdk.OpenAI if sync else sdk.AsyncOpenAI
    http = build_http_client(
        config,
        provider,
        sync=sync,
        clock=clock,
        hooks=hooks,  # type: ignore[call-overload]
    )
    options.setdefault("max_retries", 0)
    return cls(
        base_url=base_url,
        api_key=p.secret().get_secret_value(),
        http_client=http,
        **options,
    )
