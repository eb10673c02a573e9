"""
RetryTransport (backoff, jitter, Retry-After, the retry budget) and `no_backoff()`.

This layer is the only one that retries: the official SDKs run on our stack with
``max_retries=0`` and the router only fails over, so one failed attempt can never
turn into ``max_attempts ** layers`` requests.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._clock import SYSTEM_CLOCK
from .._observe.details import RetryDetails
from .._observe.dispatch import HookDispatcher
from .._runtime import RUNTIME, NoBackoff
from .._transports.base import Layer
from .._transports.extensions import (
    EXT_ATTEMPT,
    EXT_CALL,
    EXT_DEADLINE,
    EXT_FIRST_BY,
    EXT_MAX_ATTEMPTS,
    EXT_RETRY_AFTER,
    EXT_SENT,
)
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import APIConnectionError
from .backoff import compute_backoff, parse_retry_after, should_retry_status
from .breaker import CircuitBreaker
from .budget import RetryBudget

if TYPE_CHECKING:
    import httpx2

    from .._config import RetryConfig

__all__ = ["RetryTransport", "no_backoff"]


@contextlib.contextmanager
def no_backoff(attempts: int | None = None) -> Iterator[None]:
    """
    Make retries not sleep while the block runs (for your tests), like stamina's
    ``set_testing``.

    Every decision stays the same (which errors are retried, the budget, a
    Retry-After above ``max_retry_after`` giving the provider up), except that
    waits become 0. The previous setting is put back on exit, so blocks nest.

    Args:
        attempts: Also cap the attempts per provider at this number
            (``None`` keeps ``RetryConfig.max_attempts``).
    """
    if attempts is not None and attempts < 1:
        raise ValueError("attempts must be at least 1")
    previous = RUNTIME.swap_no_backoff(NoBackoff(attempts))
    try:
        yield
    finally:
        RUNTIME.swap_no_backoff(previous)


class RetryTransport(Layer):
    """
    Retries connection errors, timeouts and ``retry_on_status`` on the same provider.

    Per request: up to ``max_attempts`` attempts. The wait is ``retry-after-ms``,
    else ``Retry-After`` (seconds or HTTP-date), else full-jitter exponential
    backoff. It gives up at once, without sleeping, when the wait is longer than
    ``max_retry_after``, would pass the deadline, or the client's retry budget is
    spent, so the router can fail over. Caller errors (400/401/403/404/422) are
    never retried; ``x-should-retry`` is obeyed otherwise. A failed response is
    closed before the retry. Nothing is retried once a response is returned, so
    never after a body byte reached the caller.

    When it gives up on a status, the last response is returned unread (its
    ``extensions["holysheep.retry_after"]`` holds the parsed wait when known);
    when it gives up on an error, that error is raised.

    Args:
        inner: The transport below (breaker and the rest).
        provider: The provider's name.
        config: The retry settings.
        budget: The client's retry budget (one call is recorded per request).
        clock: The time source and sleeper.
        rng: Randomness for jitter (seed it in tests).
        hooks: Receives a `RetryDetails` before each retry sleep.
        breaker: The provider's breaker: once it would refuse the next attempt,
            the provider is given up at once instead of sleeping first.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        provider: str,
        config: RetryConfig,
        budget: RetryBudget,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        hooks: HookDispatcher | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        super().__init__(inner)
        self.breaker = breaker
        self.provider = provider
        self.config = config
        self.budget = budget
        self.max_attempts = config.max_attempts
        self._retry_on = frozenset(config.retry_on_status)
        self._clock = clock
        self._rng = rng or random.Random()
        self._hooks = hooks or HookDispatcher()

    # -- decisions (no I/O) ----------------------------------------------------

    def _begin(self, ext: dict[str, Any], attempt: int, call: Any) -> None:
        ext[EXT_ATTEMPT] = attempt
        if call is not None:
            try:  # noqa: SIM105 - cheaper than contextlib.suppress on every attempt
                call.attempts += 1
            except AttributeError:
                pass

    def _plan(
        self, attempt: int, ext: dict[str, Any], retry_after: float | None, reason: str
    ) -> float | None:
        """The wait before the next attempt, or ``None`` to give up now."""
        testing = RUNTIME.no_backoff
        max_attempts = ext.get(EXT_MAX_ATTEMPTS) or self.max_attempts
        if testing is not None and testing.attempts is not None:
            max_attempts = min(max_attempts, testing.attempts)
        if attempt >= max_attempts:
            return None
        cfg = self.config
        if retry_after is not None:
            if retry_after > cfg.max_retry_after:
                return None
            wait = retry_after
        else:
            wait = compute_backoff(
                attempt,
                initial=cfg.initial_backoff,
                maximum=cfg.max_backoff,
                jitter=cfg.jitter,
                rng=self._rng,
            )
        if testing is not None:
            wait = 0.0
        if self.breaker is not None and not self.breaker.would_admit():
            return None
        # Neither past the call's deadline nor past a stream's first-token bound
        # (then the provider is given up, and the router fails over).
        resume_at = self._clock.monotonic() + wait
        deadline = ext.get(EXT_DEADLINE)
        if deadline is not None and resume_at >= deadline:
            return None
        first_by = ext.get(EXT_FIRST_BY)
        if first_by is not None and resume_at >= first_by:
            return None
        if not self.budget.try_spend():
            return None
        self._hooks.retry(
            RetryDetails(self.provider, attempt, wait, reason, retry_after)
        )
        return wait

    def _on_error(
        self, exc: BaseException, attempt: int, ext: dict[str, Any]
    ) -> float | None:
        if not isinstance(exc, APIConnectionError) or not ext.get(EXT_SENT, True):
            return None  # not the provider's failure, or refused before any I/O
        return self._plan(attempt, ext, None, type(exc).__name__)

    def _on_response(
        self, response: httpx2.Response, attempt: int, ext: dict[str, Any]
    ) -> float | None:
        status = response.status_code
        if status < 400:
            return None  # a success is never retried, whatever x-should-retry says
        headers = response.headers
        retry_after = None
        if self.config.respect_retry_after and (
            "retry-after" in headers or "retry-after-ms" in headers
        ):
            retry_after = parse_retry_after(headers, self._clock.now())
            if retry_after is not None:
                response.extensions[EXT_RETRY_AFTER] = retry_after
        if not should_retry_status(status, headers, self._retry_on):
            return None
        return self._plan(attempt, ext, retry_after, f"status {status}")

    # -- the loops -------------------------------------------------------------

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request``, retrying as configured.

        Returns:
            The first non-retryable response, or the last one when retries end.

        Raises:
            APIConnectionError: The last attempt's error, when retries end on one.
        """
        self.budget.record_call()
        ext = request.extensions
        call = ext.get(EXT_CALL)
        attempt = 0
        while True:
            attempt += 1
            self._begin(ext, attempt, call)
            try:
                response = await self._ainner.handle_async_request(request)
            except Exception as exc:
                wait = self._on_error(exc, attempt, ext)
                if wait is None:
                    raise
            else:
                if response.status_code < 400:
                    return response  # the hot path: a success is never retried
                wait = self._on_response(response, attempt, ext)
                if wait is None:
                    return response
                await response.aclose()
            if wait > 0:
                await self._clock.async_sleep(wait)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request``, retrying as configured.

        Returns:
            The first non-retryable response, or the last one when retries end.

        Raises:
            APIConnectionError: The last attempt's error, when retries end on one.
        """
        self.budget.record_call()
        ext = request.extensions
        call = ext.get(EXT_CALL)
        attempt = 0
        while True:
            attempt += 1
            self._begin(ext, attempt, call)
            try:
                response = self._sinner.handle_request(request)
            except Exception as exc:
                wait = self._on_error(exc, attempt, ext)
                if wait is None:
                    raise
            else:
                if response.status_code < 400:
                    return response
                wait = self._on_response(response, attempt, ext)
                if wait is None:
                    return response
                response.close()
            if wait > 0:
                self._clock.sleep(wait)

    def __repr__(self) -> str:
        return (
            f"<RetryTransport provider={self.provider!r} max_attempts={self.max_attempts}"
            f" max_backoff={self.config.max_backoff}>"
        )
