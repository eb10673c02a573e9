"""
MigrationStore: one migration's progress and its gate's sums, shared by every
replica through Redis.

Two keys per migration, named by its source, target and ``started_at`` (a new
``started_at`` is a new migration): a hash ``{prefix}migration:{source}:{target}:
{epoch}:state`` holding the phase, when it began, since when it holds and why the
target rolled back, with a version; and a hash ``...:gate`` holding the gate's sums
per time bucket (bucketed by the Redis server's ``TIME``, so replicas' clocks do not
matter), from which buckets older than the window are dropped.

One Lua script (`SYNC`) does a replica's whole round trip: it adds the replica's
sums since its last sync, applies its proposal (an advance or a hold only to the
version it was decided on, a rollback to any state not rolled back yet), and
returns the state and the window's sums. A Redis that lost its data starts again
from the state the first replica to sync after that knew.

It fails *safe*, the opposite of the breaker: while Redis is unreachable the
replica keeps its last known state, and no phase advances (an advance is applied
only once Redis confirms it). A breaker that fails open risks a few calls to a
failing provider, which failover absorbs; a migration that advanced alone would
put more traffic on a target the other replicas may have judged failing or rolled
back, and no failover undoes a wrong answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .store import Script, SharedStore

__all__ = ["SYNC", "MigrationStore", "SharedProgress"]

#: Seconds the state key outlives its last sync (a rollback must outlive restarts).
STATE_TTL = 30 * 86400

# KEYS[1] the state hash, KEYS[2] the gate sums hash.
# ARGV[1] bucket width (us), ARGV[2] buckets per window, ARGV[3] state TTL (s),
# ARGV[4..7] the initial state: phase, started, held since ('' none), rollback reason,
# ARGV[8] proposal: '' | 'advance' | 'hold' | 'rollback', ARGV[9] its version,
# ARGV[10..13] the proposed phase, started, held since, rollback reason,
# ARGV[14..] the gate deltas: field, value, field, value, ...
# Reply: {version, phase, started, held since, rollback reason, {field, sum, ...}}.
SYNC = Script(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local width = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local cur = math.floor(now / width)
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'v', 0, 'ph', ARGV[4], 'st', ARGV[5], 'hs', ARGV[6],
             'rb', ARGV[7])
end
local h = redis.call('HMGET', KEYS[1], 'v', 'ph', 'st', 'hs', 'rb')
local v = tonumber(h[1]) or 0
local kind = ARGV[8]
if (h[5] or '') == '' then
  if kind == 'rollback' then
    redis.call('HSET', KEYS[1], 'rb', ARGV[13], 'v', v + 1)
  elseif kind ~= '' and tonumber(ARGV[9]) == v then
    if kind == 'advance' then
      redis.call('HSET', KEYS[1], 'ph', ARGV[10], 'st', ARGV[11], 'hs', '', 'v', v + 1)
    elseif kind == 'hold' and (h[4] or '') == '' then
      redis.call('HSET', KEYS[1], 'hs', ARGV[12], 'v', v + 1)
    end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
for i = 14, #ARGV, 2 do
  redis.call('HINCRBYFLOAT', KEYS[2], cur .. ':' .. ARGV[i], ARGV[i + 1])
end
local sums, names = {}, {}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local f = all[i]
  local sep = string.find(f, ':', 1, true)
  local b = sep and tonumber(string.sub(f, 1, sep - 1))
  if b == nil or b <= cur - nb then
    redis.call('HDEL', KEYS[2], f)
  else
    local name = string.sub(f, sep + 1)
    if sums[name] == nil then
      names[#names + 1] = name
      sums[name] = 0
    end
    sums[name] = sums[name] + tonumber(all[i + 1])
  end
end
if #all > 0 then
  redis.call('PEXPIRE', KEYS[2], math.ceil(width * nb / 1000) + 1000)
end
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = string.format('%.17g', sums[name])
end
h = redis.call('HMGET', KEYS[1], 'v', 'ph', 'st', 'hs', 'rb')
return {h[1], h[2], h[3], h[4] or '', h[5] or '', out}
"""
)


@dataclass(frozen=True, slots=True)
class SharedProgress:
    """
    The state as Redis holds it (plain values: the router turns them into its own).
    """

    version: int
    phase: int
    started: float
    held_since: float | None
    rolled_back: str | None


State = tuple[int, float, float | None, str | None]
"""phase, started (epoch s), held since (epoch s) or None, rollback reason or None."""


def _state_args(state: State) -> list[str]:
    phase, started, held, reason = state
    return [
        str(phase),
        repr(float(started)),
        "" if held is None else repr(held),
        reason or "",
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class MigrationStore:
    """
    One migration's shared progress and gate sums in Redis.

    Args:
        store: The Redis connection.
        source: The migration's source.
        target: Its target.
        started_at: Its ``started_at``, in seconds since the epoch.
        window: The gate's window in seconds (``None`` without a gate).
    """

    def __init__(
        self,
        store: SharedStore,
        *,
        source: str,
        target: str,
        started_at: float,
        window: float | None,
    ) -> None:
        self.store = store
        base = ("migration", source, target, str(int(started_at)))
        self.state_key = store.key(*base, "state")
        self.gate_key = store.key(*base, "gate")
        self._window = window or 60.0
        self._width_us = max(int(self._window / 20 * 1e6), 1)

    def args(
        self,
        initial: State,
        proposal: tuple[str, int, State] | None,
        deltas: Mapping[str, float],
    ) -> list[str]:
        """
        The script's arguments for one round trip.
        """
        out = [str(self._width_us), "20", str(STATE_TTL), *_state_args(initial)]
        if proposal is None:
            out += ["", "0", "0", "0", "", ""]
        else:
            kind, version, state = proposal
            out += [kind, str(version), *_state_args(state)]
        for name, value in deltas.items():
            out += [name, repr(float(value))]
        return out

    def run(
        self, args: Sequence[str]
    ) -> tuple[SharedProgress, dict[str, float]] | None:
        """
        One round trip, blocking (the sync client runs it on a worker thread).

        Returns:
            The state and the window's sums, or ``None`` when Redis did not answer.
        """
        return self.parse(self.store.run(SYNC, (self.state_key, self.gate_key), args))

    async def run_async(
        self, args: Sequence[str]
    ) -> tuple[SharedProgress, dict[str, float]] | None:
        """
        One round trip on this loop's client; see `run`.
        """
        reply = await self.store.run_async(SYNC, (self.state_key, self.gate_key), args)
        return self.parse(reply)

    @staticmethod
    def parse(reply: Any) -> tuple[SharedProgress, dict[str, float]] | None:
        """
        The script's reply as plain values (``None`` for no reply or a malformed one).
        """
        if not isinstance(reply, list | tuple) or len(reply) != 6:
            return None
        try:
            v, ph, st, hs, rb = (_text(x) for x in reply[:5])
            flat = [_text(x) for x in reply[5]]
            sums = {flat[i]: float(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}
            state = SharedProgress(
                version=int(float(v)),
                phase=int(float(ph)),
                started=float(st),
                held_since=float(hs) if hs else None,
                rolled_back=rb or None,
            )
        except (TypeError, ValueError):
            return None
        return state, sums

    def __repr__(self) -> str:
        return f"<MigrationStore key={self.state_key!r}>"
