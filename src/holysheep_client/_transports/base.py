"""
Layer (what every wrapping transport shares: the inner transport and closing) and
the shared views of a client's stack, whose close leaves the stack open.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self, cast

from .._types import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    import httpx2

__all__ = ["Layer", "SharedAsyncTransport", "SharedSyncTransport"]


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


class SharedAsyncTransport(Layer):
    """
    A view of a client's async stack whose ``aclose()`` leaves the stack open.

    Args:
        stack: The stack to share.
    """

    def __init__(self, stack: AsyncTransport) -> None:
        super().__init__(stack)
        self._stack = stack

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` through the shared stack.
        """
        return await self._stack.handle_async_request(request)

    async def aclose(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def close(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def __repr__(self) -> str:
        return f"<SharedAsyncTransport stack={self._stack!r}>"


class SharedSyncTransport(Layer):
    """
    A view of a client's sync stack whose ``close()`` leaves the stack open.

    Args:
        stack: The stack to share.
    """

    def __init__(self, stack: SyncTransport) -> None:
        super().__init__(stack)
        self._stack = stack

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` through the shared stack.
        """
        return self._stack.handle_request(request)

    def close(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    async def aclose(self) -> None:
        """
        Do nothing: the stack belongs to the client that shared it.
        """

    def __repr__(self) -> str:
        return f"<SharedSyncTransport stack={self._stack!r}>"
