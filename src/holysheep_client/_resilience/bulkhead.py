"""
Bulkhead (``max_concurrent_requests`` in flight per client) and BulkheadTransport.

A slot is held from the moment an attempt is sent until its response body ends
(read to the end, closed, or broken), so streams count while they stream.
Extra callers queue in order and wait within their deadline; a wait that
reaches the deadline raises a local `RateLimitError` (``status_code=None``).
Cancellation while waiting, or while holding a slot, gives the slot back.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from typing import TYPE_CHECKING

from .._clock import SYSTEM_CLOCK
from .._observe.details import RateLimitWaitDetails
from .._observe.dispatch import HookDispatcher
from .._transports.base import Layer
from .._transports.extensions import EXT_DEADLINE
from .._transports.observed import observe
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import RateLimitError

if TYPE_CHECKING:
    import httpx2

__all__ = ["Bulkhead", "BulkheadTransport"]


class _AsyncWaiter:
    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def grant(self, bulkhead: Bulkhead) -> bool:
        """Hand a slot over; False if this waiter already gave up."""
        if self.future.done():
            return False
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.future.set_result(None)
        else:
            self.loop.call_soon_threadsafe(self._settle, bulkhead)
        return True

    def _settle(self, bulkhead: Bulkhead) -> None:
        if self.future.done():  # cancelled while the hand-over was in flight
            bulkhead.release()
        else:
            self.future.set_result(None)


class _SyncWaiter:
    __slots__ = ("event", "granted", "abandoned")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False
        self.abandoned = False

    def grant(self, bulkhead: Bulkhead) -> bool:
        if self.abandoned:
            return False
        self.granted = True
        self.event.set()
        return True


class Bulkhead:
    """
    A FIFO counting semaphore usable from asyncio tasks and threads alike.

    Shared by every stack of one client (all its providers); guarded by a lock
    that is never held across a wait. A released slot is handed straight to the
    oldest waiter, so newcomers cannot barge ahead of the queue.

    Args:
        limit: Slots, i.e. requests in flight at most.
        clock: The time source for deadlines.
    """

    def __init__(self, limit: int, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.limit = limit
        self._clock = clock
        self._in_use = 0
        self._lock = threading.Lock()
        self._waiters: deque[_AsyncWaiter | _SyncWaiter] = deque()

    @property
    def in_use(self) -> int:
        """
        Slots held right now.
        """
        return self._in_use

    @property
    def waiting(self) -> int:
        """
        Callers queued for a slot right now.
        """
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """
        Take a slot if one is free and nobody is queued; never waits.
        """
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return True
            return False

    def release(self) -> None:
        """
        Give a slot back (to the oldest waiter, if any).
        """
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().grant(self):
                    return
            self._in_use -= 1

    def _refuse(self) -> RateLimitError:
        return RateLimitError(
            f"all {self.limit} concurrent request slots stayed busy until the call's"
            " deadline",
        )

    async def acquire_async(self, deadline: float | None = None) -> float:
        """
        Take a slot, waiting in line until ``deadline``.

        Returns:
            Seconds waited.

        Raises:
            RateLimitError: No slot before the deadline.
        """
        if self.try_acquire():
            return 0.0
        clock = self._clock
        start = clock.monotonic()
        if deadline is not None and deadline <= start:
            raise self._refuse()
        waiter = _AsyncWaiter(asyncio.get_running_loop())
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return 0.0
            self._waiters.append(waiter)
        fut = waiter.future
        try:
            if deadline is None:
                await fut
            else:
                timer = asyncio.ensure_future(clock.async_sleep(deadline - start))
                try:
                    await asyncio.wait(
                        (fut, timer), return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    timer.cancel()
                if not fut.done():
                    fut.cancel()
                    raise self._refuse()
        except BaseException:
            self._abandon(waiter)
            raise
        return clock.monotonic() - start

    def _abandon(self, waiter: _AsyncWaiter | _SyncWaiter) -> None:
        """A waiter gave up: leave the line, or pass on a slot it was handed."""
        with self._lock:
            if isinstance(waiter, _SyncWaiter):
                waiter.abandoned = True
                owned = waiter.granted
            else:
                fut = waiter.future
                owned = fut.done() and not fut.cancelled()
                if not fut.done():
                    fut.cancel()
            if not owned:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        if owned:
            self.release()

    def acquire(self, deadline: float | None = None) -> float:
        """
        Take a slot, blocking the thread in line until ``deadline``.

        The thread waits on an event in real time (a test clock only decides
        whether the deadline has already passed).

        Returns:
            Seconds waited.

        Raises:
            RateLimitError: No slot before the deadline.
        """
        if self.try_acquire():
            return 0.0
        clock = self._clock
        start = clock.monotonic()
        if deadline is not None and deadline <= start:
            raise self._refuse()
        waiter = _SyncWaiter()
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return 0.0
            self._waiters.append(waiter)
        try:
            got = waiter.event.wait(None if deadline is None else deadline - start)
            if not got:
                with self._lock:
                    if not waiter.granted:
                        waiter.abandoned = True
                        self._waiters.remove(waiter)
                        raise self._refuse()
        except RateLimitError:
            raise
        except BaseException:
            self._abandon(waiter)
            raise
        return clock.monotonic() - start

    def __repr__(self) -> str:
        return f"<Bulkhead limit={self.limit} in_use={self._in_use} waiting={self.waiting}>"


class BulkheadTransport(Layer):
    """
    Holds one of the client's slots from sending an attempt until its body ends.

    Args:
        inner: The transport below (attempt, pool).
        bulkhead: The client-wide bulkhead.
        provider: The provider's name (for hooks).
        hooks: Receives a `RateLimitWaitDetails` (kind ``"concurrency"``) after a wait.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        bulkhead: Bulkhead,
        provider: str | None = None,
        hooks: HookDispatcher | None = None,
    ) -> None:
        super().__init__(inner)
        self.bulkhead = bulkhead
        self.provider = provider
        self._hooks = hooks or HookDispatcher()

    def _release(self, outcome: bool | None) -> None:
        self.bulkhead.release()

    def _waited(self, waited: float) -> None:
        self._hooks.rate_limit_wait(
            RateLimitWaitDetails(self.provider, "concurrency", waited)
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once a slot is free.

        Raises:
            RateLimitError: No slot before the deadline (``status_code=None``).
        """
        bulkhead = self.bulkhead
        if bulkhead.try_acquire():  # the common case: a free slot, no coroutine
            waited = 0.0
        else:
            try:
                waited = await bulkhead.acquire_async(
                    request.extensions.get(EXT_DEADLINE)
                )
            except RateLimitError as exc:
                exc.provider = self.provider
                raise
        try:
            if waited > 0:
                self._waited(waited)
            response = await self._ainner.handle_async_request(request)
        except BaseException:
            self.bulkhead.release()
            raise
        observe(response, self._release)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once a slot is free.

        Raises:
            RateLimitError: No slot before the deadline (``status_code=None``).
        """
        try:
            waited = self.bulkhead.acquire(request.extensions.get(EXT_DEADLINE))
        except RateLimitError as exc:
            exc.provider = self.provider
            raise
        try:
            if waited > 0:
                self._waited(waited)
            response = self._sinner.handle_request(request)
        except BaseException:
            self.bulkhead.release()
            raise
        observe(response, self._release)
        return response

    def __repr__(self) -> str:
        return f"<BulkheadTransport max_concurrent_requests={self.bulkhead.limit}>"
