"""
Hook details, the `ClientHook` protocol, dispatch, and the package logger.

Details objects are frozen and carry no request headers, so no hook ever sees a key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._models import ChatResponse

__all__ = [
    "NO_CALL",
    "AttemptDetails",
    "BaseHook",
    "BreakerTransition",
    "CallScope",
    "CallScopes",
    "ClientHook",
    "HookDispatcher",
    "RateLimitWaitDetails",
    "RequestDetails",
    "RetryDetails",
    "RouteDecision",
    "logger",
]

logger = logging.getLogger("holysheep_client")


@dataclass(frozen=True, slots=True)
class AttemptDetails:
    """
    One HTTP attempt, reported when it ends (headers received, or it failed).

    Attributes:
        provider: The provider's name.
        attempt: 1-based attempt number on this provider within the call.
        method: HTTP method.
        url: The URL (keys travel in headers, never here).
        status_code: The status, or ``None`` when no response came.
        error: The class name of the error, or ``None``.
        started_at: Wall-clock start, for spans with explicit timestamps.
        duration: Seconds from send to headers (or failure).
    """

    provider: str
    attempt: int
    method: str
    url: str
    status_code: int | None
    error: str | None
    started_at: datetime
    duration: float


@dataclass(frozen=True, slots=True)
class RetryDetails:
    """
    A retry about to be slept on: ``wait`` seconds before attempt ``attempt + 1``.
    """

    provider: str
    attempt: int
    wait: float
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    """
    A circuit breaker changed state.
    """

    provider: str
    old_state: str
    new_state: str


@dataclass(frozen=True, slots=True)
class RateLimitWaitDetails:
    """
    A call waited for rate-limit or concurrency capacity.
    """

    provider: str | None
    kind: str
    waited: float


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """
    The router chose a provider for a hop of a call.

    Attributes:
        provider: The chosen provider.
        hop: 0 for the primary, 1+ for failovers.
        reason: ``"weighted"``, ``"sticky"``, ``"failover"``, ``"hedge"``, ``"resume"``,
            or ``"context_fallback"``.
        previous_error: The class name of the error that caused a failover.
    """

    provider: str
    hop: int
    reason: str
    previous_error: str | None = None


@dataclass(frozen=True, slots=True)
class RequestDetails:
    """
    A whole call finished, successfully or not.
    """

    operation: str
    requested_model: str
    response_model: str | None
    provider: str | None
    attempts: int
    latency: float
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    error: str | None
    stream: bool = False
    time_to_first_token: float | None = None
    finish_reason: str | None = None


class CallScope(Protocol):
    """
    One call as a hook sees it, from the hook's optional ``call_scope`` method.

    A hook may implement ``call_scope(operation, model, *, messages, stream)``
    returning a `CallScope`; the client opens one per call (``chat`` or a stream),
    attaches it while the call's attempts run (so they happen "inside" the call,
    as OpenTelemetry's current span), and ends it once, when the call is over.
    """

    def attach(self) -> object:
        """Make this call current; returns a token for `detach`."""

    def detach(self, token: object) -> None:
        """Undo one `attach`."""

    def end(self, error: BaseException | None, response: ChatResponse | None) -> None:
        """The call is over (``response`` is ``None`` when it failed)."""


class CallScopes:
    """
    The `CallScope` objects of one call, one per scoped hook; never raises.

    Chat calls `attach` at the start and `finish` at the end; streams, whose body
    spans the caller's iterations, attach only with `active` around the attempts.
    """

    __slots__ = ("_scopes", "_tokens")

    def __init__(self, scopes: Sequence[CallScope] = ()) -> None:
        self._scopes = tuple(scopes)
        self._tokens: list[tuple[CallScope, object]] = []

    def attach(self) -> CallScopes:
        """
        Make the call current until `finish`; returns ``self``.
        """
        for scope in self._scopes:
            try:
                self._tokens.append((scope, scope.attach()))
            except Exception:
                logger.exception("call scope %s.attach failed", type(scope).__name__)
        return self

    def _detach(self, mark: int) -> None:
        while len(self._tokens) > mark:
            scope, token = self._tokens.pop()
            try:
                scope.detach(token)
            except Exception:
                logger.exception("call scope %s.detach failed", type(scope).__name__)

    def active(self) -> _Active:
        """
        A context manager making the call current inside its block.
        """
        return _Active(self)

    def finish(
        self, error: BaseException | None, response: ChatResponse | None
    ) -> None:
        """
        Detach whatever is still attached and end every scope.
        """
        self._detach(0)
        for scope in self._scopes:
            try:
                scope.end(error, response)
            except Exception:
                logger.exception("call scope %s.end failed", type(scope).__name__)


class _Active:
    __slots__ = ("_call", "_mark")

    def __init__(self, call: CallScopes) -> None:
        self._call = call
        self._mark = 0

    def __enter__(self) -> None:
        self._mark = len(self._call._tokens)
        self._call.attach()

    def __exit__(self, *exc: object) -> None:
        self._call._detach(self._mark)


#: The scopes of a call when no hook has ``call_scope``: every method is a no-op.
NO_CALL: CallScopes = CallScopes()


class ClientHook(Protocol):
    """
    Receives details as things happen; implement any subset (see `BaseHook`).

    A hook may also implement ``call_scope(operation, model, *, messages, stream)
    -> CallScope`` to see each call as a scope around its attempts (this is how
    `holysheep_client.otel.OpenTelemetryHook` nests attempt spans under the call's).
    """

    def on_attempt(self, details: AttemptDetails) -> None:
        """An HTTP attempt ended."""

    def on_retry(self, details: RetryDetails) -> None:
        """A retry is about to be slept on."""

    def on_breaker(self, details: BreakerTransition) -> None:
        """A breaker changed state."""

    def on_rate_limit_wait(self, details: RateLimitWaitDetails) -> None:
        """A call waited for capacity."""

    def on_route(self, details: RouteDecision) -> None:
        """The router picked a provider."""

    def on_request(self, details: RequestDetails) -> None:
        """A call finished."""


class BaseHook:
    """
    A `ClientHook` whose methods do nothing; subclass and override what you need.
    """

    def on_attempt(self, details: AttemptDetails) -> None:
        """An HTTP attempt ended."""

    def on_retry(self, details: RetryDetails) -> None:
        """A retry is about to be slept on."""

    def on_breaker(self, details: BreakerTransition) -> None:
        """A breaker changed state."""

    def on_rate_limit_wait(self, details: RateLimitWaitDetails) -> None:
        """A call waited for capacity."""

    def on_route(self, details: RouteDecision) -> None:
        """The router picked a provider."""

    def on_request(self, details: RequestDetails) -> None:
        """A call finished."""


class HookDispatcher:
    """
    Fans details out to hooks and to the logger; a failing hook is logged, never raised.

    Shared by every request of a client; holds no per-request state.
    """

    __slots__ = ("hooks", "scoped")

    def __init__(self, hooks: Iterable[ClientHook] = ()) -> None:
        self.hooks: tuple[ClientHook, ...] = tuple(hooks)
        self.scoped: tuple[Any, ...] = tuple(
            h for h in self.hooks if callable(getattr(h, "call_scope", None))
        )

    def call(
        self,
        operation: str,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream: bool = False,
    ) -> CallScopes:
        """
        Open one call's scopes (`NO_CALL` when no hook has ``call_scope``).
        """
        if not self.scoped:
            return NO_CALL
        scopes = []
        for hook in self.scoped:
            try:
                scopes.append(
                    hook.call_scope(operation, model, messages=messages, stream=stream)
                )
            except Exception:
                logger.exception("hook %s.call_scope failed", type(hook).__name__)
        return CallScopes(scopes)

    def _emit(self, name: str, details: object) -> None:
        for hook in self.hooks:
            method = getattr(hook, name, None)
            if method is None:
                continue
            try:
                method(details)
            except Exception:
                logger.exception("hook %s.%s failed", type(hook).__name__, name)

    def attempt(self, d: AttemptDetails) -> None:
        if logger.isEnabledFor(logging.INFO):
            outcome = d.status_code if d.status_code is not None else d.error
            logger.info(
                "HTTP Request: %s %s %s provider=%s attempt=%d",
                d.method,
                d.url,
                outcome,
                d.provider,
                d.attempt,
            )
        if self.hooks:
            self._emit("on_attempt", d)

    def retry(self, d: RetryDetails) -> None:
        logger.debug(
            "retrying provider=%s after attempt=%d in %.3fs (%s)",
            d.provider,
            d.attempt,
            d.wait,
            d.reason,
        )
        if self.hooks:
            self._emit("on_retry", d)

    def breaker(self, d: BreakerTransition) -> None:
        logger.warning(
            "circuit breaker provider=%s %s -> %s", d.provider, d.old_state, d.new_state
        )
        if self.hooks:
            self._emit("on_breaker", d)

    def rate_limit_wait(self, d: RateLimitWaitDetails) -> None:
        logger.debug("waited %.3fs for %s provider=%s", d.waited, d.kind, d.provider)
        if self.hooks:
            self._emit("on_rate_limit_wait", d)

    def route(self, d: RouteDecision) -> None:
        logger.debug("route provider=%s hop=%d reason=%s", d.provider, d.hop, d.reason)
        if self.hooks:
            self._emit("on_route", d)

    def request(self, d: RequestDetails) -> None:
        if self.hooks:
            self._emit("on_request", d)

    def __repr__(self) -> str:
        return f"<HookDispatcher hooks={len(self.hooks)}>"
