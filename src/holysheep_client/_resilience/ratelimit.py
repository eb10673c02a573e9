"""
RateLimiter (aiolimiter for async, a small token bucket for sync) and RateLimitTransport.

Both hold at most one second's burst: after an idle second a provider limited to
``r`` requests per second may get ``r`` requests at once, then ``r`` per second.
In any window of ``T`` seconds at most ``r * (T + 1)`` requests start (the burst
is at least 1 request, so rates below 1/s still admit one at a time).

aiolimiter paces one event loop: it is created per loop, so a process running
several loops (or sync and async calls on one client) gets that rate per loop.
A wait that would pass the call's deadline is not slept: it raises a local
`RateLimitError` (``status_code=None``) at once.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .._clock import SYSTEM_CLOCK
from .._observe.details import RateLimitWaitDetails
from .._observe.dispatch import HookDispatcher
from .._runtime import RUNTIME
from .._transports.base import Layer
from .._transports.extensions import EXT_DEADLINE
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import RateLimitError

if TYPE_CHECKING:
    import httpx2

__all__ = ["RateLimitTransport", "RateLimiter", "TokenBucket"]


class TokenBucket:
    """
    A thread-safe token bucket that reserves: a caller that must wait takes its
    token now (the balance goes negative) and sleeps outside the lock, so
    waiters are served in order and each wait is known before it starts.

    Args:
        rate: Tokens per second.
        burst: The bucket's size (defaults to one second's worth, at least 1).
        clock: The time source.
    """

    __slots__ = ("_clock", "_lock", "_stamp", "_tokens", "burst", "rate")

    def __init__(
        self, rate: float, *, burst: float | None = None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock.monotonic()
        self._lock = threading.Lock()

    def reserve(
        self, deadline: float | None = None, amount: float = 1.0
    ) -> float | None:
        """
        Take ``amount`` tokens, now or at a known later time.

        Args:
            deadline: Absolute time on the clock by which the tokens must be had.
            amount: How many tokens (at most the bucket's size).

        Returns:
            Seconds to wait before going ahead (0 when the tokens were there), or
            ``None`` when that wait would pass ``deadline`` (nothing is taken).
        """
        with self._lock:
            now = self._clock.monotonic()
            tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0 if tokens >= amount else (amount - tokens) / self.rate
            if wait > 0 and deadline is not None and now + wait > deadline:
                self._tokens = tokens
                return None
            self._tokens = tokens - amount
            return wait

    def give_back(self, amount: float) -> None:
        """
        Return ``amount`` tokens (negative: take more), never above the bucket's size.
        """
        with self._lock:
            self._tokens = min(self.burst, self._tokens + amount)

    def __repr__(self) -> str:
        return f"<TokenBucket rate={self.rate} burst={self.burst}>"


class _ClockLoop:
    """
    What a clocked aiolimiter sees as its event loop: our clock tells the time
    and times its wake-ups; the real loop makes futures and runs callbacks.
    """

    __slots__ = ("_clock", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Clock) -> None:
        self._loop = loop
        self._clock = clock

    def time(self) -> float:
        return self._clock.monotonic()

    def is_closed(self) -> bool:
        return self._loop.is_closed()

    def create_future(self) -> asyncio.Future[Any]:
        return self._loop.create_future()

    def call_soon(self, callback: Callable[..., object], *args: Any) -> Any:
        return self._loop.call_soon(callback, *args)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Any:
        task = self._loop.create_task(self._at(when, callback, args))
        return _TaskHandle(task, when)

    async def _at(
        self, when: float, callback: Callable[..., object], args: Any
    ) -> None:
        # A hair past ``when``: with a jumping test clock, float rounding could
        # otherwise leave it a few ulps short, and aiolimiter would wait again.
        await self._clock.async_sleep(max(when - self._clock.monotonic(), 0.0) + 1e-9)
        callback(*args)


class _TaskHandle:
    __slots__ = ("_task", "_when")

    def __init__(self, task: asyncio.Task[None], when: float) -> None:
        self._task = task
        self._when = when

    def cancel(self) -> None:
        self._task.cancel()

    def cancelled(self) -> bool:
        return self._task.cancelled()

    def when(self) -> float:
        return self._when


def _clocked_limiter(max_rate: float, period: float, loop: _ClockLoop) -> Any:
    """An aiolimiter whose one time read site (``_loop``) is our clock."""

    def build() -> type[Any]:
        from aiolimiter import AsyncLimiter

        class ClockedLimiter(AsyncLimiter):
            __slots__ = ("_clock_loop",)
            _clock_loop: _ClockLoop

            @property
            def _loop(self) -> Any:
                return self._clock_loop

        return ClockedLimiter

    limiter: Any = RUNTIME.cached("clocked-limiter", build)(max_rate, period)
    limiter._clock_loop = loop
    return limiter


class _LoopLimiter:
    __slots__ = ("limiter", "waiting")

    def __init__(self, limiter: Any) -> None:
        self.limiter = limiter
        self.waiting = 0


class RateLimiter:
    """
    One provider's request rate, for async (aiolimiter, one per event loop) and sync.

    Shared by every request to that provider; the sync bucket is guarded by a
    lock, and each loop's aiolimiter is used only from its own loop.

    Args:
        provider: The provider's name (for errors and hooks).
        rate: Requests per second.
        clock: The time source. With the system clock aiolimiter reads the loop's
            time as usual; with another clock (tests) it reads and sleeps on that.
    """

    def __init__(
        self, provider: str, rate: float, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.provider = provider
        self.rate = rate
        self.burst = max(rate, 1.0)
        self._clock = clock
        self._bucket = TokenBucket(rate, burst=self.burst, clock=clock)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopLimiter]
        self._loops = weakref.WeakKeyDictionary()
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _LoopLimiter] | None
        self._last = None

    def _for_loop(self) -> _LoopLimiter:
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        entry = self._loops.get(loop)
        if entry is None:
            # max_rate per period == rate per second, with a burst of max_rate.
            period = self.burst / self.rate
            if self._clock is SYSTEM_CLOCK:
                from aiolimiter import AsyncLimiter

                limiter: Any = AsyncLimiter(self.burst, period)
            else:
                limiter = _clocked_limiter(
                    self.burst, period, _ClockLoop(loop, self._clock)
                )
            entry = self._loops[loop] = _LoopLimiter(limiter)
        self._last = (weakref.ref(loop), entry)
        return entry

    def _refuse(self, wait: float | None) -> RateLimitError:
        return RateLimitError(
            f"rate limit of {self.rate:g}/s for provider {self.provider!r} has no"
            " capacity before the call's deadline",
            provider=self.provider,
            retry_after=wait,
        )

    def try_acquire(self) -> bool:
        """
        Take capacity from this event loop's limiter if it is there now; never waits.

        Returns:
            False when there is no capacity, callers are queued, or no loop runs.
        """
        try:
            entry = self._for_loop()
        except RuntimeError:
            return False
        limiter = entry.limiter
        if entry.waiting or not limiter.has_capacity():
            return False
        # What aiolimiter's acquire() does when it need not wait and nobody waits
        # (every waiter of this limiter goes through us and is counted in
        # ``waiting``): add to the level. It has no public non-async acquire, and
        # a coroutine per request costs more than the rest of this layer.
        limiter._level += 1
        return True

    async def acquire_async(self, deadline: float | None = None) -> float:
        """
        Wait for capacity on this event loop's limiter.

        Args:
            deadline: Absolute deadline on the clock, or ``None``.

        Returns:
            Seconds waited (0 when there was capacity).

        Raises:
            RateLimitError: The wait would pass ``deadline`` (nothing was slept).
        """
        entry = self._for_loop()
        limiter = entry.limiter
        if limiter.has_capacity():
            await limiter.acquire()  # returns without suspending: capacity is there
            return 0.0
        start = self._clock.monotonic()
        if deadline is not None:
            # aiolimiter serves waiters in order; those ahead of us need capacity too.
            # (aiolimiter has no public read of its level.)
            needed = limiter._level + 1 + entry.waiting - limiter.max_rate
            wait = needed / self.rate
            if start + wait > deadline:
                raise self._refuse(wait)
        entry.waiting += 1
        try:
            await limiter.acquire()
        finally:
            entry.waiting -= 1
        return self._clock.monotonic() - start

    def acquire(self, deadline: float | None = None) -> float:
        """
        Wait (sleeping the thread) for capacity in the sync bucket.

        Returns:
            Seconds waited.

        Raises:
            RateLimitError: The wait would pass ``deadline`` (nothing was slept).
        """
        wait = self._bucket.reserve(deadline)
        if wait is None:
            raise self._refuse(None)
        if wait > 0:
            self._clock.sleep(wait)
        return wait

    def __repr__(self) -> str:
        return f"<RateLimiter provider={self.provider!r} rate={self.rate:g} burst={self.burst:g}>"


class RateLimitTransport(Layer):
    """
    Waits for the provider's rate limit before each attempt, within the deadline.

    Args:
        inner: The transport below (bulkhead, attempt, pool).
        limiter: The provider's limiter, shared with the client's other stacks.
        hooks: Receives a `RateLimitWaitDetails` when a call waited.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        limiter: RateLimiter,
        hooks: HookDispatcher | None = None,
    ) -> None:
        super().__init__(inner)
        self.limiter = limiter
        self._hooks = hooks or HookDispatcher()

    def _waited(self, waited: float) -> None:
        self._hooks.rate_limit_wait(
            RateLimitWaitDetails(self.limiter.provider, "rate_limit", waited)
        )

    def handle_async_request(
        self, request: httpx2.Request
    ) -> Coroutine[Any, Any, httpx2.Response]:
        """
        Send ``request`` once the limiter has capacity (await the result).

        With capacity at hand this returns the inner layer's coroutine directly,
        adding no frame to the await chain; otherwise a coroutine that waits first.

        Raises:
            RateLimitError: No capacity before the deadline (``status_code=None``).
        """
        if self.limiter.try_acquire():
            return self._ainner.handle_async_request(request)
        return self._wait_then_send(request)

    async def _wait_then_send(self, request: httpx2.Request) -> httpx2.Response:
        waited = await self.limiter.acquire_async(request.extensions.get(EXT_DEADLINE))
        if waited > 0:
            self._waited(waited)
        return await self._ainner.handle_async_request(request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once the limiter has capacity.

        Raises:
            RateLimitError: No capacity before the deadline (``status_code=None``).
        """
        waited = self.limiter.acquire(request.extensions.get(EXT_DEADLINE))
        if waited > 0:
            self._waited(waited)
        return self._sinner.handle_request(request)

    def __repr__(self) -> str:
        return f"<RateLimitTransport provider={self.limiter.provider!r} rate={self.limiter.rate:g}>"
