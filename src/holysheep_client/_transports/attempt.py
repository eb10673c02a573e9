"""
AttemptTransport: one HTTP attempt, the innermost of our layers (the pool boundary).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._clock import SYSTEM_CLOCK
from .._observe.details import AttemptDetails
from .._observe.dispatch import HookDispatcher
from .._observe.log import logger
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import map_exception
from .base import Layer
from .deadline import deadline_error
from .extensions import (
    EXT_ATTEMPT,
    EXT_DEADLINE,
    EXT_READ_TIMEOUT,
    EXT_SENT,
    EXT_TIMEOUT,
)
from .observed import wrap_response
from .watchdog import watchdog

if TYPE_CHECKING:
    import httpx2

    from .._config import TimeoutConfig

__all__ = ["AttemptTransport"]


class AttemptTransport(Layer):
    """
    Sends one attempt to the pool with per-attempt timeouts, and maps its errors.

    - Sets httpx's ``timeout`` extension from ``connect`` and ``per_attempt``
      (``per_attempt`` bounds each read, write and pool wait), each capped by the
      time left before the call's deadline.
    - In async, also bounds the wait for the response headers by the time left.
    - Translates httpx2/httpx exceptions into ours (`APIConnectionError`,
      `APITimeoutError`), here and while the body is read (`ObservedStream`).
    - Reports the attempt to the hooks (and the INFO log line) when its headers
      arrive or it fails.

    Args:
        inner: The pool transport (or a test double).
        provider: The provider's name.
        timeout: ``connect`` and ``per_attempt`` are used here.
        clock: The time source.
        hooks: Receives an `AttemptDetails` per attempt.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        provider: str,
        timeout: TimeoutConfig,
        clock: Clock = SYSTEM_CLOCK,
        hooks: HookDispatcher | None = None,
    ) -> None:
        super().__init__(inner)
        self.provider = provider
        self.connect = timeout.connect
        self.per_attempt = timeout.per_attempt
        self._timeouts: dict[str, float | None] = {
            "connect": timeout.connect,
            "read": timeout.per_attempt,
            "write": timeout.per_attempt,
            "pool": timeout.per_attempt,
        }
        self._clock = clock
        self._hooks = hooks or HookDispatcher()

    def _prepare(self, request: httpx2.Request) -> float | None:
        """Set the attempt's timeouts; return the deadline, if the call has one."""
        ext = request.extensions
        deadline = ext.get(EXT_DEADLINE)
        cap = ext.get(EXT_READ_TIMEOUT)
        if deadline is None:
            timeouts = dict(self._timeouts)
            if cap is not None:
                read = timeouts["read"]
                timeouts["read"] = cap if read is None else min(read, cap)
            ext[EXT_TIMEOUT] = timeouts
            ext[EXT_SENT] = True
            return None
        left: float = deadline - self._clock.monotonic()
        if left <= 0:
            raise deadline_error(self.provider)
        connect, per = self.connect, self.per_attempt
        capped = left if per is None or per > left else per
        ext[EXT_TIMEOUT] = {
            "connect": left if connect is None or connect > left else connect,
            "read": capped if cap is None else min(capped, cap),
            "write": capped,
            "pool": capped,
        }
        ext[EXT_SENT] = True
        return float(deadline)

    def _report(
        self,
        request: httpx2.Request,
        start: float,
        status: int | None,
        error: BaseException | None,
    ) -> None:
        hooks = self._hooks
        if not hooks.hooks and not logger.isEnabledFor(logging.INFO):
            return
        duration = self._clock.monotonic() - start
        attempt = request.extensions.get(EXT_ATTEMPT, 1)
        hooks.attempt(
            AttemptDetails(
                provider=self.provider,
                attempt=attempt if isinstance(attempt, int) else 1,
                method=request.method,
                url=str(request.url),
                status_code=status,
                error=None if error is None else type(error).__name__,
                started_at=self._clock.now() - timedelta(seconds=duration),
                duration=duration,
            )
        )

    def _failed(self, request: httpx2.Request, start: float, exc: BaseException) -> Any:
        ours = map_exception(exc, provider=self.provider)
        self._report(request, start, None, ours or exc)
        return ours

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one attempt.

        Raises:
            APITimeoutError: A timeout, or the deadline passed before the headers.
            APIConnectionError: The connection failed.
        """
        deadline = self._prepare(request)
        start = self._clock.monotonic()
        try:
            if deadline is None:
                response = await self._ainner.handle_async_request(request)
            else:
                dog = watchdog()
                entry = dog.watch(deadline, self._clock)
                task = entry.task
                cancelling = task.cancelling()
                try:
                    response = await self._ainner.handle_async_request(request)
                except asyncio.CancelledError:
                    # Ours only if nobody else asked for a cancellation meanwhile.
                    if entry.expired and task.uncancel() <= cancelling:
                        raise deadline_error(self.provider) from None
                    raise
                finally:
                    dog.unwatch(entry)
        except BaseException as exc:
            ours = self._failed(request, start, exc)
            if ours is None:
                raise
            raise ours from exc
        if self._hooks.hooks or logger.isEnabledFor(logging.INFO):
            self._report(request, start, response.status_code, None)
        wrap_response(response, self.provider)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one attempt.

        Raises:
            APITimeoutError: A timeout, or the deadline passed first.
            APIConnectionError: The connection failed.
        """
        self._prepare(request)
        start = self._clock.monotonic()
        try:
            response = self._sinner.handle_request(request)
        except BaseException as exc:
            ours = self._failed(request, start, exc)
            if ours is None:
                raise
            raise ours from exc
        if self._hooks.hooks or logger.isEnabledFor(logging.INFO):
            self._report(request, start, response.status_code, None)
        wrap_response(response, self.provider)
        return response

    def __repr__(self) -> str:
        return (
            f"<AttemptTransport provider={self.provider!r} connect={self.connect}"
            f" per_attempt={self.per_attempt}>"
        )
