"""
SharedRateLimit (one provider's request rate across processes) and
SharedRateLimitTransport.

GCRA (the generic cell rate algorithm) in one Lua script: the key
``{prefix}rate:{provider}`` holds the theoretical arrival time in microseconds of
the Redis server's ``TIME``; one ``EVALSHA`` per admission reserves the caller's
slot, now or at a known later time, or refuses it when that time is past the
call's deadline. The burst is one second's worth, as in the local limiter, so in
any window of ``T`` seconds at most ``rate * (T + 1)`` calls start, all processes
together.

The process's own `RateLimiter` (aiolimiter) stays in front as a cheap first gate:
a call reaches Redis only once it has local capacity. When Redis is unreachable
the local limiter is all there is, so the aggregate rate becomes the per-process
rate times the number of processes until Redis answers again.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..._clock import SYSTEM_CLOCK
from ..._observe.dispatch import HookDispatcher
from ..._transports.extensions import EXT_DEADLINE
from ..._types import AsyncTransport, Clock, SyncTransport
from ...errors import RateLimitError
from ..ratelimit import RateLimiter, RateLimitTransport
from .store import Script, SharedStore

if TYPE_CHECKING:
    import httpx2

__all__ = ["GCRA", "SharedRateLimit", "SharedRateLimitTransport"]

# KEYS[1] the TAT key; ARGV: emission interval, burst tolerance, longest wait (all us).
# Reply: {1, wait} (reserved: go after wait us) or {0, wait} (refused).
GCRA = Script(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - tonumber(ARGV[2]) - now
if wait > tonumber(ARGV[3]) then return {0, wait} end
if wait < 0 then wait = 0 end
local new = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', new),
           'PX', math.ceil((new - now) / 1000) + 1000)
return {1, wait}
"""
)

#: The longest reservation for a call without a deadline, in seconds.
NO_DEADLINE_WAIT = 3600.0


class SharedRateLimit:
    """
    One provider's request rate shared by every process, by GCRA in Redis.

    Args:
        provider: The provider's name.
        rate: Requests per second, all processes together.
        store: The Redis connection.
        clock: The time source deadlines are read on.
    """

    def __init__(
        self,
        provider: str,
        rate: float,
        store: SharedStore,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.provider = provider
        self.rate = rate
        self.burst = max(rate, 1.0)
        self.key = store.key("rate", provider)
        self._store = store
        self._clock = clock
        interval = 1e6 / rate
        self._interval = round(interval)
        self._tolerance = round((self.burst - 1.0) * interval)

    def _args(self, deadline: float | None) -> tuple[int, int, int]:
        left = (
            NO_DEADLINE_WAIT
            if deadline is None
            else max(deadline - self._clock.monotonic(), 0.0)
        )
        return (self._interval, self._tolerance, int(left * 1e6))

    def _wait(self, reply: Any) -> float | None:
        if reply is None:
            return None
        reserved, wait = int(reply[0]), int(reply[1]) / 1e6
        if not reserved:
            raise RateLimitError(
                f"shared rate limit of {self.rate:g}/s for provider {self.provider!r}"
                " has no capacity before the call's deadline",
                provider=self.provider,
                retry_after=wait,
            )
        return wait

    async def reserve_async(self, deadline: float | None = None) -> float | None:
        """
        Reserve one call's slot in the shared rate.

        Args:
            deadline: Absolute deadline on the clock, or ``None``.

        Returns:
            Seconds to wait before sending, or ``None`` when Redis is unreachable
            (the local limiter alone decides).

        Raises:
            RateLimitError: The slot would come after ``deadline`` (nothing reserved).
        """
        return self._wait(
            await self._store.run_async(GCRA, (self.key,), self._args(deadline))
        )

    def reserve(self, deadline: float | None = None) -> float | None:
        """
        Reserve one call's slot in the shared rate, blocking (sync stacks).

        Returns:
            As `reserve_async`.

        Raises:
            RateLimitError: As `reserve_async`.
        """
        return self._wait(self._store.run(GCRA, (self.key,), self._args(deadline)))

    def __repr__(self) -> str:
        return f"<SharedRateLimit provider={self.provider!r} rate={self.rate:g} key={self.key!r}>"


class SharedRateLimitTransport(RateLimitTransport):
    """
    `RateLimitTransport` followed by the provider's `SharedRateLimit`.

    Args:
        inner: The transport below.
        limiter: The provider's local limiter (the first gate).
        shared: The provider's shared rate.
        clock: Sleeps for reserved slots.
        hooks: Receives a `RateLimitWaitDetails` when a call waited.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        limiter: RateLimiter,
        shared: SharedRateLimit,
        clock: Clock = SYSTEM_CLOCK,
        hooks: HookDispatcher | None = None,
    ) -> None:
        super().__init__(inner, limiter=limiter, hooks=hooks)
        self.shared = shared
        self._clock = clock

    def handle_async_request(
        self, request: httpx2.Request
    ) -> Coroutine[Any, Any, httpx2.Response]:
        """
        Send ``request`` once the local, then the shared limit has capacity.

        Raises:
            RateLimitError: No capacity before the deadline (``status_code=None``).
        """
        return self._shared_then_send(request)

    async def _shared_then_send(self, request: httpx2.Request) -> httpx2.Response:
        deadline = request.extensions.get(EXT_DEADLINE)
        waited = 0.0
        if not self.limiter.try_acquire():
            waited = await self.limiter.acquire_async(deadline)
        wait = await self.shared.reserve_async(deadline)
        if wait:
            await self._clock.async_sleep(wait)
            waited += wait
        if waited > 0:
            self._waited(waited)
        return await self._ainner.handle_async_request(request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once the local, then the shared limit has capacity.

        Raises:
            RateLimitError: No capacity before the deadline (``status_code=None``).
        """
        deadline = request.extensions.get(EXT_DEADLINE)
        waited = self.limiter.acquire(deadline)
        wait = self.shared.reserve(deadline)
        if wait:
            self._clock.sleep(wait)
            waited += wait
        if waited > 0:
            self._waited(waited)
        return self._sinner.handle_request(request)

    def __repr__(self) -> str:
        return (
            f"<SharedRateLimitTransport provider={self.limiter.provider!r}"
            f" rate={self.limiter.rate:g} key={self.shared.key!r}>"
        )
