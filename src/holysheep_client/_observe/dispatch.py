"""
HookDispatcher (fans details out to hooks and the log) and CallScopes (one call's
scopes); a failing hook is logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from .hooks import CallScope, ClientHook
from .log import logger

if TYPE_CHECKING:
    from .._models import ChatResponse

__all__ = ["NO_CALL", "CallScopes", "HookDispatcher", "Hooks", "as_dispatcher"]


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

    def gate(self, d: GateDetails) -> None:
        if d.decision == "held":
            logger.warning(
                "migration to %s: phase %s holds, the gate fails: %s",
                d.target,
                d.phase,
                d.reason,
            )
        elif d.decision == "rolled_back":
            logger.warning(
                "migration to %s rolled back in phase %s: %s",
                d.target,
                d.phase,
                d.reason,
            )
        elif d.decision == "advanced":
            logger.info("migration to %s: phase %s begins", d.target, d.phase)
        if self.hooks:
            self._emit("on_gate", d)

    def shadow(self, d: ShadowDetails) -> None:
        if d.outcome == "failed":
            logger.debug("shadow call to %s failed (%s)", d.provider, d.error)
        if self.hooks:
            self._emit("on_shadow", d)

    def __repr__(self) -> str:
        return f"<HookDispatcher hooks={len(self.hooks)}>"


Hooks = HookDispatcher | Iterable[ClientHook] | None
"""What layers accept as hooks: a dispatcher, some hooks, or none."""


def as_dispatcher(hooks: Hooks) -> HookDispatcher:
    """
    ``hooks`` as a `HookDispatcher` (the same one when it already is).
    """
    if isinstance(hooks, HookDispatcher):
        return hooks
    return HookDispatcher(hooks or ())
