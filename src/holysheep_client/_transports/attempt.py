"""
AttemptTransport: one HTTP attempt, the innermost of our layers (the pool boundary).
"""

from __future__ import annotations

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
from .deadline import Bound, deadline_error, enter_bound, leave_bound
from .extensions import (
    EXT_ABORT,
    EXT_ATTEMPT,
    EXT_DEADLINE,
    EXT_FIRST_BY,
    EXT_SENT,
    EXT_TIMEOUT,
    EXT_TIMEOUTS,
)
from .observed import wrap_response

if TYPE_CHECKING:
    import httpx2

    from .._config import TimeoutConfig

__all__ = ["AttemptTransport"]


class AttemptTransport(Layer):
    """
    Sends one attempt to the pool under its bound, and maps its errors.

    - The attempt's bound is ``per_attempt`` from now, the call's deadline, and for
      the headers of a stream's attempt its first-token bound, whichever is first:
      connect, headers and body all happen within it. The pool's network backend
      gives every socket operation only the time left (see ``deadline.py``).
    - It also sets httpx's ``timeout`` extension (``connect``, and the time left
      for read, write and pool waits) for transports that read only that.
    - Translates httpx2/httpx exceptions into ours (`APIConnectionError`,
      `APITimeoutError`), here and while the body is read (`ObservedStream`):
      the one boundary where the HTTP libraries' errors become ours.
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
        self._clock = clock
        self._hooks = hooks or HookDispatcher()

    def _prepare(
        self, request: httpx2.Request, start: float
    ) -> tuple[Bound, float | None]:
        """The bound of the headers, and the attempt's deadline for its body."""
        ext = request.extensions
        per, connect = self.per_attempt, self.connect
        override = ext.get(EXT_TIMEOUTS)
        if override is not None:  # one call's own timeouts
            per, connect = override.per_attempt, override.connect
        at: float | None = None if per is None else start + per
        deadline = ext.get(EXT_DEADLINE)
        if deadline is not None and (at is None or deadline < at):
            at = deadline
        headers_at = at
        first_by = ext.get(EXT_FIRST_BY)
        if first_by is not None and (headers_at is None or first_by < headers_at):
            headers_at = first_by
        if headers_at is not None and headers_at <= start:
            raise deadline_error(self.provider)
        if headers_at is None:
            ext[EXT_TIMEOUT] = {
                "connect": connect,
                "read": None,
                "write": None,
                "pool": None,
            }
        else:
            left = headers_at - start
            ext[EXT_TIMEOUT] = {
                "connect": left if connect is None or connect > left else connect,
                "read": left,
                "write": left,
                "pool": left,
            }
        ext[EXT_SENT] = True
        return Bound(headers_at, self._clock, ext.get(EXT_ABORT)), at

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

    def _received(
        self,
        request: httpx2.Request,
        response: httpx2.Response,
        start: float,
        deadline: float | None,
    ) -> httpx2.Response:
        if self._hooks.hooks or logger.isEnabledFor(logging.INFO):
            self._report(request, start, response.status_code, None)
        wrap_response(
            response,
            self.provider,
            deadline=deadline,
            clock=self._clock,
            abort=request.extensions.get(EXT_ABORT),
        )
        return response

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one attempt.

        Raises:
            APITimeoutError: A timeout, or the bound passed before the headers.
            APIConnectionError: The connection failed.
        """
        start = self._clock.monotonic()
        bound, deadline = self._prepare(request, start)
        token = enter_bound(bound)
        try:
            response = await self._ainner.handle_async_request(request)
        except BaseException as exc:
            ours = self._failed(request, start, exc)
            if ours is None:
                raise
            raise ours from exc
        finally:
            leave_bound(token)
        return self._received(request, response, start, deadline)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one attempt.

        Raises:
            APITimeoutError: A timeout, or the bound passed before the headers.
            APIConnectionError: The connection failed.
        """
        start = self._clock.monotonic()
        bound, deadline = self._prepare(request, start)
        token = enter_bound(bound)
        try:
            response = self._sinner.handle_request(request)
        except BaseException as exc:
            ours = self._failed(request, start, exc)
            if ours is None:
                raise
            raise ours from exc
        finally:
            leave_bound(token)
        return self._received(request, response, start, deadline)

    def __repr__(self) -> str:
        return (
            f"<AttemptTransport provider={self.provider!r} connect={self.connect}"
            f" per_attempt={self.per_attempt}>"
        )
