"""
DeadlineTransport: the outermost layer, which fixes the call's deadline.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .._clock import SYSTEM_CLOCK
from .._transports.base import Layer
from .._transports.deadline import deadline_error
from .._transports.extensions import EXT_DEADLINE, EXT_PROVIDER
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import APITimeoutError

if TYPE_CHECKING:
    import httpx2

__all__ = ["DeadlineTransport"]


async def _raise(exc: BaseException) -> Any:
    raise exc


class DeadlineTransport(Layer):
    """
    Sets ``request.extensions[EXT_DEADLINE]`` from ``timeout.total`` when absent.

    A request that already carries a deadline (the client sets one per call, so
    that failovers and hedges share it) keeps it. Every layer below reads it:
    retries do not sleep past it, limits do not wait past it, and each attempt's
    timeouts are capped by the time left. A request whose deadline has already
    passed raises `APITimeoutError` without any I/O.

    Args:
        inner: The transport below (retry and the rest).
        provider: The provider's name, also set as ``EXT_PROVIDER`` when absent.
        total: Seconds from the start of the request, or ``None`` for no deadline.
        clock: The time source.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        provider: str,
        total: float | None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__(inner)
        self.provider = provider
        self.total = total
        self._clock = clock

    def _prepare(self, request: httpx2.Request) -> None:
        ext = request.extensions
        if EXT_PROVIDER not in ext:
            ext[EXT_PROVIDER] = self.provider
        deadline = ext.get(EXT_DEADLINE)
        if deadline is None:
            if self.total is not None:
                ext[EXT_DEADLINE] = self._clock.monotonic() + self.total
        elif self._clock.monotonic() >= deadline:
            raise deadline_error(self.provider)

    def handle_async_request(
        self, request: httpx2.Request
    ) -> Coroutine[Any, Any, httpx2.Response]:
        """
        Send ``request`` under its deadline (await the result).

        A plain method returning the inner layer's coroutine: this layer does
        nothing after the call, so it adds no frame to every await below it.

        Raises:
            APITimeoutError: The deadline had already passed (when awaited).
        """
        try:
            self._prepare(request)
        except APITimeoutError as exc:
            return _raise(exc)
        return self._ainner.handle_async_request(request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` under its deadline.

        Raises:
            APITimeoutError: The deadline had already passed.
        """
        self._prepare(request)
        return self._sinner.handle_request(request)

    def __repr__(self) -> str:
        return f"<DeadlineTransport provider={self.provider!r} total={self.total}>"
