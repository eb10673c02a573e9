"""
SharedTokenLimit: one provider's ``tokens_per_minute`` across processes, by GCRA in
Redis with a cost per call.

The key ``{prefix}tokens:{provider}`` holds the theoretical arrival time in
microseconds; a reservation of ``n`` tokens moves it ``n`` emission intervals ahead
and may start once it is within one minute (the bucket) of now. Settling a call
moves it back by what it did not use (or further by what it used beyond). When
Redis is unreachable the local `TokenLimiter` alone decides, as for the request rate.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..._clock import SYSTEM_CLOCK
from ..._types import Clock
from ...errors import RateLimitError
from .store import Script, SharedStore

__all__ = ["ADJUST", "RESERVE", "SharedTokenLimit"]

# KEYS[1] the TAT key; ARGV: cost (us), tolerance (us), longest wait (us).
# Reply: {1, wait} (reserved: go after wait us) or {0, wait} (refused).
RESERVE = Script(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new = tat + tonumber(ARGV[1])
local wait = new - tonumber(ARGV[2]) - now
if wait > tonumber(ARGV[3]) then return {0, wait} end
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%.0f', new),
           'PX', math.ceil((new - now) / 1000) + 1000)
return {1, wait}
"""
)

# KEYS[1] the TAT key; ARGV[1]: microseconds to move it back (negative: ahead).
ADJUST = Script(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local new = tat - tonumber(ARGV[1])
if new <= now then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', new),
           'PX', math.ceil((new - now) / 1000) + 1000)
return 1
"""
)

#: The longest reservation for a call without a deadline, in seconds.
NO_DEADLINE_WAIT = 3600.0


class SharedTokenLimit:
    """
    One provider's token rate shared by every process.

    Args:
        provider: The provider's name.
        per_minute: Tokens per minute, all processes together.
        store: The Redis connection.
        clock: The time source deadlines are read on.
    """

    def __init__(
        self,
        provider: str,
        per_minute: float,
        store: SharedStore,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.provider = provider
        self.per_minute = per_minute
        self.key = store.key("tokens", provider)
        self._store = store
        self._clock = clock
        self._interval = 60e6 / per_minute  # us per token
        self._tolerance = round(60e6)  # one minute's worth

    def _args(self, amount: float, deadline: float | None) -> tuple[int, int, int]:
        left = (
            NO_DEADLINE_WAIT
            if deadline is None
            else max(deadline - self._clock.monotonic(), 0.0)
        )
        return (round(amount * self._interval), self._tolerance, int(left * 1e6))

    def _wait(self, reply: Any, amount: float) -> float | None:
        if reply is None:
            return None
        reserved, wait = int(reply[0]), int(reply[1]) / 1e6
        if not reserved:
            raise RateLimitError(
                f"the shared token limit of {self.per_minute:g}/min for provider"
                f" {self.provider!r} has no room before the call's deadline"
                f" ({amount:g} tokens)",
                provider=self.provider,
                retry_after=wait,
            )
        return wait

    def reserve(self, amount: float, deadline: float | None) -> float | None:
        """
        Reserve ``amount`` tokens (blocking); the wait, or ``None`` when Redis is down.

        Raises:
            RateLimitError: No room before ``deadline`` (nothing reserved).
        """
        return self._wait(
            self._store.run(RESERVE, (self.key,), self._args(amount, deadline)), amount
        )

    async def reserve_async(
        self, amount: float, deadline: float | None
    ) -> float | None:
        """
        Reserve ``amount`` tokens; the wait, or ``None`` when Redis is down.

        Raises:
            RateLimitError: No room before ``deadline`` (nothing reserved).
        """
        reply = await self._store.run_async(
            RESERVE, (self.key,), self._args(amount, deadline)
        )
        return self._wait(reply, amount)

    def give_back(self, amount: float) -> None:
        """
        Return ``amount`` tokens (negative: take more), in the background in async.
        """
        args = (round(amount * self._interval),)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._store.run(ADJUST, (self.key,), args)
            return
        self._store.spawn(self._store.run_async(ADJUST, (self.key,), args))

    def __repr__(self) -> str:
        return f"<SharedTokenLimit provider={self.provider!r} per_minute={self.per_minute:g}>"
