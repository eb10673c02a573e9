"""
SharedBreaker (one provider's breaker state in Redis) and SharedCircuitBreakerTransport.

pybreaker's semantics, kept in one Redis hash per provider
(``{prefix}breaker:{provider}``: state, generation, failure counter, opened-at and
the half-open probe's lease) and changed only by Lua scripts, so every process sees
one breaker: ``fail_max`` consecutive failures (from any process) open it; while open
every process refuses calls with `CircuitOpenError` and no I/O to the provider; after
``reset_timeout`` one caller, in one process, is admitted as the probe; its success
closes the breaker, its failure re-opens it. Timestamps are the Redis server's
``TIME``, so the processes' clocks do not matter.

Admission is one ``EVALSHA`` (a closed state is cached for ``cache_ttl``, 5 ms; an
open one until it may probe). A verdict is a background write, skipped for a success
when there is no failure to reset. Every transition bumps a generation, and a verdict
from an older generation is ignored, as in the local `CircuitBreaker`.

While Redis is unreachable (see `SharedStore`) the process's own `CircuitBreaker`
decides alone; while it is reachable the local breaker only admits (it stays closed
unless it was opened during an outage).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..._clock import SYSTEM_CLOCK
from ..._transports.extensions import EXT_SENT
from ..._transports.observed import observe
from ..._types import AsyncTransport, Clock, SyncTransport
from ...errors import CircuitOpenError
from ..backoff import breaker_verdict
from ..breaker import (
    CircuitBreaker,
    CircuitBreakerTransport,
    Permit,
    _exception_verdict,
)
from .store import Script, SharedStore

if TYPE_CHECKING:
    import httpx2

    from ..._config import BreakerConfig

__all__ = ["SharedBreaker", "SharedCircuitBreakerTransport", "Ticket"]

CLOSED, OPEN, HALF_OPEN, PROBING = 0, 1, 2, 3

# KEYS[1] the hash; ARGV: reset_timeout (us), the probe's lease (us).
# Reply: {state, generation, failures, microseconds until a probe may go (open)}.
# state 2 means "you are the probe", 3 "half-open with a probe out elsewhere".
ADMIT = Script(
    """
local h = redis.call('HMGET', KEYS[1], 's', 'g', 'f', 'o', 'p')
local s = tonumber(h[1]) or 0
local g = tonumber(h[2]) or 0
local f = tonumber(h[3]) or 0
if s == 0 then return {0, g, f, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if s == 1 then
  local left = (tonumber(h[4]) or 0) + tonumber(ARGV[1]) - now
  if left > 0 then return {1, g, f, left} end
else
  local lease = tonumber(h[5]) or 0
  if lease > now then return {3, g, f, lease - now} end
end
g = g + 1
redis.call('HSET', KEYS[1], 's', 2, 'g', g, 'p', now + tonumber(ARGV[2]))
return {2, g, f, 0}
"""
)

# KEYS[1] the hash; ARGV: generation ('*': any), outcome ('1' success, '0' failure),
# fail_max. Reply: {state, generation, failures}.
RECORD = Script(
    """
local h = redis.call('HMGET', KEYS[1], 's', 'g', 'f')
local s = tonumber(h[1]) or 0
local g = tonumber(h[2]) or 0
local f = tonumber(h[3]) or 0
if s == 1 or (ARGV[1] ~= '*' and tonumber(ARGV[1]) ~= g) then return {s, g, f} end
if ARGV[2] == '1' then
  if s == 2 then
    g = g + 1
    redis.call('HSET', KEYS[1], 's', 0, 'g', g, 'f', 0)
    return {0, g, 0}
  end
  if f > 0 then redis.call('HSET', KEYS[1], 'f', 0) end
  return {0, g, 0}
end
f = f + 1
if s == 2 or f >= tonumber(ARGV[3]) then
  local t = redis.call('TIME')
  g = g + 1
  redis.call('HSET', KEYS[1], 's', 1, 'g', g, 'f', f,
             'o', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  return {1, g, f}
end
redis.call('HSET', KEYS[1], 'f', f)
return {0, g, f}
"""
)


class Ticket:
    """
    One call admitted by the shared breaker: its generation, and whether it is the probe.
    """

    __slots__ = ("failures", "generation", "probe")

    def __init__(self, generation: int, probe: bool, failures: int) -> None:
        self.generation = generation
        self.probe = probe
        self.failures = failures

    def __repr__(self) -> str:
        return f"<Ticket generation={self.generation} probe={self.probe}>"


class SharedBreaker:
    """
    One provider's breaker state shared through Redis, over its local `CircuitBreaker`.

    Args:
        local: The process's breaker for this provider (the fallback).
        config: ``fail_max`` and ``reset_timeout``.
        store: The Redis connection.
        clock: The time source for the read cache.
        cache_ttl: Seconds a closed state read from Redis is trusted.
    """

    def __init__(
        self,
        local: CircuitBreaker,
        config: BreakerConfig,
        store: SharedStore,
        *,
        clock: Clock = SYSTEM_CLOCK,
        cache_ttl: float = 0.005,
    ) -> None:
        self.local = local
        self.provider = local.provider
        self.fail_max = config.fail_max
        self.key = store.key("breaker", local.provider)
        self._store = store
        self._clock = clock
        self._cache_ttl = cache_ttl
        self._admit_args = (
            int(config.reset_timeout * 1e6),
            # The probe's lease: another caller may probe if this one never reports.
            int(max(config.reset_timeout, 1.0) * 1e6),
        )
        # A closed state read from Redis: (valid until, generation, failures).
        self._cached: tuple[float, int, int] | None = None
        self._open_until = 0.0

    @property
    def seen_open(self) -> bool:
        """
        True while the last answer from Redis said open (no I/O; for `health()`).
        """
        return self._clock.monotonic() < self._open_until

    # -- admission -------------------------------------------------------------------

    def _from_cache(self) -> Ticket | None:
        now = self._clock.monotonic()
        if now < self._open_until:
            raise CircuitOpenError(self.provider, retry_in=self._open_until - now)
        cached = self._cached
        if cached is not None and now < cached[0]:
            return Ticket(cached[1], False, cached[2])
        return None

    def _admitted(self, reply: Any) -> Ticket:
        state, generation, failures, left = (int(x) for x in reply)
        now = self._clock.monotonic()
        if state == OPEN:
            self._cached = None
            self._open_until = now + left / 1e6
            raise CircuitOpenError(self.provider, retry_in=left / 1e6)
        if state == PROBING:
            # Not cached: the probe may answer any moment.
            self._cached = None
            raise CircuitOpenError(self.provider)
        if state == HALF_OPEN:
            self._cached = None
            return Ticket(generation, True, failures)
        self._cached = (now + self._cache_ttl, generation, failures)
        return Ticket(generation, False, failures)

    async def admit_async(self) -> Ticket | None:
        """
        Admit one call by the shared state.

        Returns:
            A `Ticket`, or ``None`` when Redis is unreachable (use the local breaker).

        Raises:
            CircuitOpenError: The shared breaker is open, or half-open with its probe
                out in some process.
        """
        ticket = self._from_cache()
        if ticket is not None:
            return ticket
        reply = await self._store.run_async(ADMIT, (self.key,), self._admit_args)
        return None if reply is None else self._admitted(reply)

    def admit(self) -> Ticket | None:
        """
        Admit one call by the shared state, blocking (sync stacks).

        Returns:
            A `Ticket`, or ``None`` when Redis is unreachable.

        Raises:
            CircuitOpenError: As `admit_async`.
        """
        ticket = self._from_cache()
        if ticket is not None:
            return ticket
        reply = self._store.run(ADMIT, (self.key,), self._admit_args)
        return None if reply is None else self._admitted(reply)

    # -- verdicts --------------------------------------------------------------------

    def _recorded(self, reply: Any, outcome: bool) -> None:
        if reply is None:
            # Redis went away since admission: the local breaker counts it instead.
            if outcome:
                self.local.report_success()
            else:
                self.local.report_failure()
            return
        state, generation, failures = (int(x) for x in reply)
        now = self._clock.monotonic()
        if state == CLOSED:
            self._cached = (now + self._cache_ttl, generation, failures)
        else:
            self._cached = None
        if state == OPEN:
            self._open_until = 0.0  # the next admission reads how long it stays open

    def record(self, ticket: Ticket | None, outcome: bool | None) -> None:
        """
        Write a call's verdict to the shared state (in the background when a loop runs).

        Args:
            ticket: From an admission (``None``: a report from outside an attempt).
            outcome: True success, False provider failure, ``None`` no verdict.
        """
        if outcome is None:
            return
        if outcome and ticket is not None and not ticket.probe:
            # Skip a success with no failure to reset, judged by a fresh read (a
            # failure elsewhere during a long call must still be reset).
            cached = self._cached
            if (
                cached is not None
                and cached[2] == 0
                and self._clock.monotonic() < cached[0]
            ):
                return
        generation = "*" if ticket is None else str(ticket.generation)
        args = (generation, "1" if outcome else "0", self.fail_max)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._recorded(self._store.run(RECORD, (self.key,), args), outcome)
            return
        self._store.spawn(self._record_async(args, outcome))

    async def _record_async(self, args: tuple[Any, ...], outcome: bool) -> None:
        self._recorded(await self._store.run_async(RECORD, (self.key,), args), outcome)

    def __repr__(self) -> str:
        return f"<SharedBreaker provider={self.provider!r} key={self.key!r}>"


class _Verdict:
    """The callback a call's outcome goes to: the shared state, or the local breaker."""

    __slots__ = ("permit", "shared", "ticket")

    def __init__(self, shared: SharedBreaker, permit: Permit, ticket: Ticket) -> None:
        self.shared = shared
        self.permit = permit
        self.ticket = ticket

    def __call__(self, outcome: bool | None) -> None:
        self.shared.local.record(self.permit, None)
        self.shared.record(self.ticket, outcome)


class SharedCircuitBreakerTransport(CircuitBreakerTransport):
    """
    `CircuitBreakerTransport` that also admits through the provider's `SharedBreaker`.

    Args:
        inner: The transport below.
        breaker: The provider's local breaker.
        shared: The provider's shared breaker.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        breaker: CircuitBreaker,
        shared: SharedBreaker,
    ) -> None:
        super().__init__(inner, breaker=breaker)
        self.shared = shared

    def _judge(self, verdict: Any, response: httpx2.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            observe(response, verdict)
        else:
            verdict(breaker_verdict(status))

    def _verdict(self, permit: Permit, ticket: Ticket | None) -> Any:
        return permit if ticket is None else _Verdict(self.shared, permit, ticket)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` if both the local and the shared breaker admit it.

        Raises:
            CircuitOpenError: Refused with no network I/O to the provider.
        """
        permit = self.breaker.admit()
        try:
            ticket = await self.shared.admit_async()
        except BaseException:
            self.breaker.record(permit, None)
            raise
        verdict = self._verdict(permit, ticket)
        ext = request.extensions
        ext[EXT_SENT] = False
        try:
            response = await self._ainner.handle_async_request(request)
        except BaseException as exc:
            verdict(_exception_verdict(exc, ext))
            raise
        self._judge(verdict, response)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` if both the local and the shared breaker admit it.

        Raises:
            CircuitOpenError: Refused with no network I/O to the provider.
        """
        permit = self.breaker.admit()
        try:
            ticket = self.shared.admit()
        except BaseException:
            self.breaker.record(permit, None)
            raise
        verdict = self._verdict(permit, ticket)
        ext = request.extensions
        ext[EXT_SENT] = False
        try:
            response = self._sinner.handle_request(request)
        except BaseException as exc:
            verdict(_exception_verdict(exc, ext))
            raise
        self._judge(verdict, response)
        return response

    async def aclose(self) -> None:
        """
        Close the inner transport and this loop's Redis client.
        """
        await super().aclose()
        await self.shared._store.aclose()

    def close(self) -> None:
        """
        Close the inner transport and the blocking Redis client.
        """
        super().close()
        self.shared._store.close()
