"""
SharedSpend: the budgets' spend counters in Redis, one per tag value and UTC day.

A check must not wait on Redis on the caller's path, so each counter's last reading is
cached for `FRESH` seconds: a blocking client reads it again when it is older, an
asyncio client reads it once (`load_async`), then refreshes it in the background and
checks against the last reading.
Spend reaches Redis as it happens, so a budget spent in one process refuses calls in
every other within about `FRESH` seconds.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Final

from ..._clock import SYSTEM_CLOCK
from ..._types import Clock
from .store import Script, SharedStore

__all__ = ["ADD", "FRESH", "GET", "SharedSpend"]

#: Seconds a counter's reading is used before it is read again.
FRESH: Final = 0.1

# KEYS[1] the counter; ARGV[1] USD to add. Two days' expiry: yesterday's can go.
ADD = Script(
    """
local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 172800)
return v
"""
)
GET = Script("return redis.call('GET', KEYS[1])")


class SharedSpend:
    """
    Spend per tag value and day, shared by every process using the same store.

    Args:
        store: The Redis connection.
        clock: Dates the cached readings.
    """

    def __init__(self, store: SharedStore, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, float]] = {}  # key -> (usd, read at)
        self._refreshing: set[str] = set()

    def _key(self, tag: str, value: str, day: str) -> str:
        return self._store.key("spend", tag or "*", value, day)

    def _remember(self, key: str, reply: Any) -> float | None:
        if reply is None and self._store.down:
            return None
        usd = float(reply or 0.0)
        with self._lock:
            self._seen[key] = (usd, self._clock.monotonic())
            self._refreshing.discard(key)
        return usd

    async def _refresh(self, key: str) -> None:
        try:
            self._remember(key, await self._store.run_async(GET, (key,), ()))
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def spent(self, tag: str, value: str, day: str) -> float | None:
        """
        The spend so far, or ``None`` when it is unknown (Redis unreachable).
        """
        key = self._key(tag, value, day)
        with self._lock:
            seen = self._seen.get(key)
        fresh = seen is not None and self._clock.monotonic() - seen[1] < FRESH
        if fresh:
            assert seen is not None
            return seen[0]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._remember(key, self._store.run(GET, (key,), ()))
        with self._lock:
            start = key not in self._refreshing
            self._refreshing.add(key)
        if start:
            self._store.spawn(self._refresh(key))
        return None if seen is None else seen[0]

    async def load_async(self, tag: str, value: str, day: str) -> None:
        """
        Read a counter this process has not read yet, so that an asyncio client's
        first call of a tag value is checked against the spend of every process.
        """
        key = self._key(tag, value, day)
        with self._lock:
            if key in self._seen:
                return
        self._remember(key, await self._store.run_async(GET, (key,), ()))

    def add(self, tag: str, value: str, day: str, usd: float) -> None:
        """
        Add ``usd`` (in the background in async); the cached reading moves too.
        """
        key, args = self._key(tag, value, day), (repr(float(usd)),)
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None:
                self._seen[key] = (seen[0] + usd, seen[1])
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._remember(key, self._store.run(ADD, (key,), args))
            return
        self._store.spawn(self._added(key, args))

    async def _added(self, key: str, args: tuple[str]) -> None:
        self._remember(key, await self._store.run_async(ADD, (key,), args))

    def __repr__(self) -> str:
        return f"<SharedSpend store={self._store!r}>"
