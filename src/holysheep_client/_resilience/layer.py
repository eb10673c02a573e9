"""
Layer: what every resilience transport shares (the inner transport and closing).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self, cast

from .._types import AsyncTransport, SyncTransport

__all__ = ["Layer"]


class Layer:
    """
    Base of a transport wrapping a transport, sync or async.

    ``close()`` / ``aclose()`` close the inner transport, and the context-manager
    methods that httpx clients call on their transport are provided, so a layer
    can be handed to ``httpx2.AsyncClient(transport=...)`` directly.

    Args:
        inner: The transport below, httpx2 or httpx, sync or async.
    """

    def __init__(self, inner: AsyncTransport | SyncTransport) -> None:
        self._ainner = cast(AsyncTransport, inner)
        self._sinner = cast(SyncTransport, inner)

    async def aclose(self) -> None:
        """
        Close the inner transport.
        """
        await self._ainner.aclose()

    def close(self) -> None:
        """
        Close the inner transport.
        """
        self._sinner.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()
