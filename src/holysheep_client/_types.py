"""
Protocols and sentinels shared by every layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "AsyncTransport",
    "Clock",
    "SyncTransport",
    "USE_DEFAULT",
    "UseDefault",
]

# Requests and responses are typed as httpx2's; an httpx pool transport has the
# very same shape, and `_transports/pool.py` is the only place that crosses over.


@runtime_checkable
class Clock(Protocol):
    """
    The one source of time and sleeping; `SystemClock` in production, `FakeClock` in tests.
    """

    def monotonic(self) -> float:
        """
        Seconds on a monotonic clock.
        """
        ...

    def now(self) -> datetime:
        """
        The current wall-clock time, timezone-aware (UTC).
        """
        ...

    def sleep(self, seconds: float) -> None:
        """
        Block the thread for ``seconds``.
        """
        ...

    async def async_sleep(self, seconds: float) -> None:
        """
        Suspend the task for ``seconds``.
        """
        ...


class AsyncTransport(Protocol):
    """
    Anything with httpx's async transport interface (httpx2 or httpx).
    """

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request and return its response (body still streaming).
        """
        ...

    async def aclose(self) -> None:
        """
        Release the transport's resources.
        """
        ...


class SyncTransport(Protocol):
    """
    Anything with httpx's sync transport interface (httpx2 or httpx).
    """

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send one request and return its response (body still streaming).
        """
        ...

    def close(self) -> None:
        """
        Release the transport's resources.
        """
        ...


class UseDefault:
    """
    Sentinel type for "not given", where ``None`` means something else.
    """

    _instance: UseDefault | None = None

    def __new__(cls) -> UseDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "USE_DEFAULT"

    def __bool__(self) -> bool:
        return False


USE_DEFAULT: Final = UseDefault()
