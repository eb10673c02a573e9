"""
The hook protocols: `ClientHook` (details as things happen), `CallScope` (one call
as a scope around its attempts), and `BaseHook`, a no-op base to subclass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .details import (
    AttemptDetails,
    BreakerTransition,
    GateDetails,
    RateLimitWaitDetails,
    RequestDetails,
    RetryDetails,
    RouteDecision,
    ShadowDetails,
)

if TYPE_CHECKING:
    from .._models import ChatResponse

__all__ = ["BaseHook", "CallScope", "ClientHook"]


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

    def on_gate(self, details: GateDetails) -> None:
        """
        The migration gate was judged, or the migration held, rolled back or advanced.

        .. versionadded:: 0.2.0
        """

    def on_shadow(self, details: ShadowDetails) -> None:
        """
        A shadow call ended, or a sampled call was skipped.

        .. versionadded:: 0.2.0
        """


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

    def on_gate(self, details: GateDetails) -> None:
        """The migration gate was judged, or the migration held, rolled back or advanced."""

    def on_shadow(self, details: ShadowDetails) -> None:
        """A shadow call ended, or a sampled call was skipped."""
