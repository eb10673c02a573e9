"""
DeadlineWatchdog: cancels asyncio attempts still waiting for headers at their deadline.

Each attempt's httpx timeouts are already capped by the time left, so a provider
that hangs is cut exactly on time by the read timeout. What those cannot bound is
the sum of phases (a slow pool wait, then a slow connect, then a slow read) or a
server trickling its headers. The watchdog is that safety net, and a cheap one:
instead of a timer per attempt (``asyncio.timeout`` costs a timer-heap entry and
a cancellation per request), one ticker per event loop checks the attempts in
flight every `TICK` seconds and only while there are some. An expired attempt
is cancelled, and the attempt layer turns that cancellation into `APITimeoutError`.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Final

from .._types import Clock

__all__ = ["TICK", "DeadlineWatchdog", "Watch", "watchdog"]

#: Seconds between checks: an attempt is cut at most this long after its deadline.
TICK: Final = 0.05


class Watch:
    """
    One attempt being watched.
    """

    __slots__ = ("clock", "deadline", "expired", "task")

    def __init__(
        self, task: asyncio.Task[object], deadline: float, clock: Clock
    ) -> None:
        self.task = task
        self.deadline = deadline
        self.clock = clock
        self.expired = False


class DeadlineWatchdog:
    """
    The attempts of one event loop waiting for headers, checked every `TICK` seconds.

    Used only from its own loop's thread, so it needs no lock.

    Args:
        loop: The event loop whose tasks it watches.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._watches: set[Watch] = set()
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, deadline: float, clock: Clock) -> Watch:
        """
        Watch the current task until `unwatch`; cancel it once ``deadline`` passes.

        Raises:
            RuntimeError: Not called from a task.
        """
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("the deadline watchdog needs a running task")
        entry = Watch(task, deadline, clock)
        self._watches.add(entry)
        if self._handle is None:
            self._handle = self._loop.call_later(TICK, self._tick)
        return entry

    def unwatch(self, entry: Watch) -> None:
        """
        Stop watching ``entry`` (its attempt got its headers or failed).
        """
        self._watches.discard(entry)

    def check(self) -> int:
        """
        Cancel every watched attempt whose deadline has passed (the ticker calls this).

        Returns:
            How many were cancelled.
        """
        due = [w for w in self._watches if w.clock.monotonic() >= w.deadline]
        for entry in due:
            self._watches.discard(entry)
            entry.expired = True
            entry.task.cancel()
        return len(due)

    def _tick(self) -> None:
        self._handle = None
        self.check()
        if self._watches:
            self._handle = self._loop.call_later(TICK, self._tick)

    def __len__(self) -> int:
        return len(self._watches)

    def __repr__(self) -> str:
        return f"<DeadlineWatchdog watching={len(self._watches)} tick={TICK}>"


_last: DeadlineWatchdog | None = None  # the last loop's, to skip the lookup
_WATCHDOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DeadlineWatchdog] = (
    weakref.WeakKeyDictionary()
)


def watchdog() -> DeadlineWatchdog:
    """
    The running event loop's watchdog.

    Raises:
        RuntimeError: No event loop is running.
    """
    global _last
    loop = asyncio.get_running_loop()
    if _last is not None and _last._loop is loop:
        return _last
    dog = _WATCHDOGS.get(loop)
    if dog is None:
        dog = _WATCHDOGS[loop] = DeadlineWatchdog(loop)
    _last = dog
    return dog
