"""
Protocols, aliases and request-extension keys shared by every layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "EXT_ATTEMPT",
    "EXT_CALL",
    "EXT_DEADLINE",
    "EXT_PROVIDER",
    "EXT_READ_TIMEOUT",
    "EXT_TIMEOUT",
    "AsyncTransport",
    "Clock",
    "SyncTransport",
    "USE_DEFAULT",
    "UseDefault",
]

# Requests and responses are typed as httpx2's; an httpx pool transport has the
# very same shape, and `_transports.py` is the only place that crosses over.

#: Absolute deadline of the whole call on the stack's clock (monotonic seconds), or None.
EXT_DEADLINE: Final = "holysheep.deadline"
#: Name of the provider the request is for.
EXT_PROVIDER: Final = "holysheep.provider"
#: 1-based number of the HTTP attempt on this provider, set by the retry layer.
EXT_ATTEMPT: Final = "holysheep.attempt"
#: A `CallRecord` shared by every attempt of one call (attempt counting, hooks).
EXT_CALL: Final = "holysheep.call"
#: Optional cap (seconds) on the read timeout of a request's attempts (sync streams).
EXT_READ_TIMEOUT: Final = "holysheep.read_timeout"
#: httpx's own per-request timeout extension.
EXT_TIMEOUT: Final = "timeout"


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
