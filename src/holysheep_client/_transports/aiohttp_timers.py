"""
The aiohttp pool's timers: `Watch` (the deadline of a response's body reads) and
`Expiry` (the deadline of its headers), each cheaper than `asyncio.timeout_at`.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["Expiry", "Watch"]


class Watch:
    """
    The deadline of one response's pending body read, on the loop's clock.

    One timer at most; `expect` only stores a later deadline, and the timer,
    when it fires early, re-arms itself for it.
    """

    __slots__ = ("_content", "_handle", "_lib", "_loop", "armed", "due")

    def __init__(self, loop: asyncio.AbstractEventLoop, content: Any, lib: Any) -> None:
        self._loop = loop
        self._content = content
        self._lib = lib
        self._handle: asyncio.TimerHandle | None = None
        self.armed = 0.0
        self.due: float | None = None

    def expect(self, due: float) -> None:
        self.due = due
        handle = self._handle
        if handle is None or due < self.armed:
            if handle is not None:
                handle.cancel()
            self.armed = due
            self._handle = self._loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self._handle = None
        due = self.due
        if due is None:
            return  # no read pending: the next read arms again
        if self._loop.time() < due:
            self.armed = due
            self._handle = self._loop.call_at(due, self._fire)
            return
        self._content.set_exception(
            self._lib.ReadTimeout("the request's deadline passed")
        )

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class Expiry:
    """
    Cancels the task when its time comes: `asyncio.timeout_at` without the context
    manager, which cost more than the rest of the headers' wait on our side.

    As there, a cancellation of ours becomes `TimeoutError` (taken back from the
    task with ``uncancel``), one from elsewhere stays a cancellation (`ours`).
    """

    __slots__ = ("cancelling", "fired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.cancelling = task.cancelling()
        self.fired = False

    def ours(self) -> bool:
        """
        Whether the cancellation being handled is this expiry's alone.
        """
        return self.fired and self.task.uncancel() <= self.cancelling

    async def absorb(self) -> None:
        """
        After a wait that ended well: take back a cancellation this expiry asked
        for too late to interrupt it, so the task never sees it.

        `asyncio.timeout_at` only uncancels on exit, and on Python 3.11 the
        request stays pending and is delivered at the task's next ``await``: a
        call whose headers came as its deadline fired would raise a bare
        `CancelledError` somewhere above. Here it is delivered and dropped at
        once, unless a cancellation from elsewhere is pending too: that one stands.
        """
        if not self.fired or self.task.uncancel() > self.cancelling:
            return
        try:
            await asyncio.sleep(0)  # where a pending request is delivered
        except asyncio.CancelledError:
            if self.task.cancelling() > self.cancelling:
                raise  # asked for by someone else meanwhile

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel()
