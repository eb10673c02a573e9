"""
WeightedRouter: weighted and sticky draws, failover order, migration weights, rollback,
and the migration's gate and shadow policy.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Collection, Mapping

from .._clock import SYSTEM_CLOCK
from .._config import MigrationConfig
from .._models import GateStatus, MigrationStatus
from .._types import Clock
from ..errors import ConfigError
from .gate import GateTotals
from .migration import PhasePosition, RollbackWindow
from .progress import MigrationProgress
from .progress_types import Progress, SyncJob, Transition
from .shadow import ShadowPolicy

__all__ = ["WeightedRouter", "rendezvous_pick", "weighted_pick"]

_TWO64 = float(2**64)


def _unit_hash(key: str, name: str) -> float:
    # Stable across processes and replicas (unlike hash()), uniform in (0, 1).
    digest = hashlib.blake2b(f"{key}\x00{name}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / _TWO64


def rendezvous_pick(key: str, weights: Mapping[str, float]) -> str | None:
    """
    Weighted rendezvous (highest-random-weight) hashing.

    Each provider scores ``w / -ln(h(key, name))``; the highest wins, so a key lands
    on a provider with probability proportional to its weight. When one weight
    rises, keys only move to it; when one falls, keys only leave it.

    Returns:
        The chosen provider, or ``None`` when every weight is 0.
    """
    best, best_score = None, 0.0
    for name, w in weights.items():
        if w <= 0:
            continue
        score = w / -math.log(_unit_hash(key, name))
        if score > best_score:
            best, best_score = name, score
    return best


def weighted_pick(weights: Mapping[str, float], rng: random.Random) -> str | None:
    """
    A random draw proportional to the weights; ``None`` when every weight is 0.
    """
    total = sum(w for w in weights.values() if w > 0)
    if total <= 0:
        return None
    x = rng.random() * total
    last = None
    for name, w in weights.items():
        if w <= 0:
            continue
        last = name
        x -= w
        if x < 0:
            return name
    return last


class WeightedRouter:
    """
    Decides which provider serves a call, and in which order the others are tried.

    Shared by every call of a client; its state (manual weights, the migration's
    progress, the target's outcome windows) is guarded by a lock, so `set_weights`
    is safe from any thread or task. The shadow policy guards itself.

    Args:
        providers: Provider names with their configured weights, in config order.
        migration: An optional timed migration.
        clock: Time source for phases and the rollback window.
        rng: Randomness for unkeyed draws.
        shared: The migration's progress is shared through Redis (``shared_state``).
    """

    def __init__(
        self,
        providers: Mapping[str, float],
        *,
        migration: MigrationConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        shared: bool = False,
    ) -> None:
        self._configured = dict(providers)
        self._order = list(providers)
        self._migration = migration
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._manual: dict[str, float] | None = None
        self._window = (
            RollbackWindow(migration.rollback)
            if migration is not None and migration.rollback is not None
            else None
        )
        self._progress = (
            MigrationProgress(migration, shared=shared)
            if migration is not None
            else None
        )
        self.shadow: ShadowPolicy | None = None
        if migration is not None and migration.shadow is not None:
            self.shadow = ShadowPolicy(
                migration.shadow,
                migration.target,
                rng=random.Random(self._rng.getrandbits(64)),
            )

    @property
    def _rolled_back(self) -> str | None:
        p = self._progress
        return p.state.rolled_back if p is not None else None

    def __repr__(self) -> str:
        return f"<WeightedRouter providers={self._order!r} migration={self._migration is not None}>"

    @property
    def names(self) -> list[str]:
        """
        Provider names in config order.
        """
        return list(self._order)

    def _position(self) -> PhasePosition | None:
        if self._progress is None:
            return None
        return self._progress.position(self._clock.now())

    def _phase(self) -> PhasePosition | None:
        if self._migration is None or self._manual is not None:
            return None
        return self._position()

    def weights(self) -> dict[str, float]:
        """
        The effective weight of every provider now.
        """
        with self._lock:
            return self._weights_locked()

    def _weights_locked(self) -> dict[str, float]:
        if self._manual is not None:
            return dict(self._manual)
        weights = dict(self._configured)
        mig = self._migration
        if mig is None:
            return weights
        pos = self._position()
        target = pos.weight if pos is not None else None
        if self._rolled_back is not None:
            target = 0.0
        if target is not None:
            weights[mig.target] = target
            weights[mig.source] = 100.0 - target
        return weights

    def plan(
        self, route_key: str | None = None, *, eligible: Collection[str] | None = None
    ) -> list[str]:
        """
        The providers to try for one call: the primary first, then failover order.

        The primary is drawn by weight (deterministically from ``route_key`` when
        given); the rest follow by weight, highest first, weight 0 included.

        Args:
            route_key: A sticky key.
            eligible: Only these providers may serve the call (those with what it
                needs); the others are left out of the draw and of the failover.
        """
        with self._lock:
            weights = self._weights_locked()
            if eligible is not None:
                weights = {n: w for n, w in weights.items() if n in eligible}
            if route_key is None:
                primary = weighted_pick(weights, self._rng)
            else:
                primary = rendezvous_pick(route_key, weights)
        rest = sorted(
            (n for n in self._order if n != primary and n in weights),
            key=lambda n: (-weights.get(n, 0.0), self._order.index(n)),
        )
        return ([primary] if primary is not None else []) + rest

    def is_migration_target(self, name: str) -> bool:
        """
        True when ``name`` is the target of an active (clocked, not overridden) migration.
        """
        with self._lock:
            return (
                self._migration is not None
                and self._manual is None
                and self._migration.target == name
                and self._phase() is not None
            )

    def record_target_outcome(
        self,
        ok: bool,
        latency: float | None = None,
        *,
        cost: float | None = None,
        agreement: float | None = None,
    ) -> str | None:
        """
        Record a target outcome: a call whose primary draw was the target, or a
        shadow call (with its ``agreement`` score when answered).

        Both feed the gate's window and the rollback rule's.

        Returns:
            The rollback reason when this outcome triggered the rollback, else ``None``.
        """
        with self._lock:
            if self._rolled_back is not None or self._manual or self._progress is None:
                return None
            t = self._clock.monotonic()
            sink = self._progress.sink(t)
            if sink is not None:
                sink.add_outcome(ok, latency, cost)
                if agreement is not None:
                    sink.add_agreement(agreement)
            if self._window is None:
                return None
            reason = self._window.record(t, ok, latency)
            if reason is not None:
                self._progress.rollback(reason)
            return reason

    def record_source_cost(self, cost: float) -> None:
        """
        Record the cost of a call the source answered (the gate's cost ratio).
        """
        with self._lock:
            if self._progress is None or self._manual:
                return
            sink = self._progress.sink(self._clock.monotonic())
            if sink is not None:
                sink.add_source_cost(cost)

    def shadowing(self) -> bool:
        """
        True while shadow calls may go out: a phase is active (not paused by
        `set_weights`, not rolled back) and the target's weight is below 100.
        """
        mig = self._migration
        if self.shadow is None or mig is None:
            return False
        with self._lock:
            if self._manual is not None or self._rolled_back is not None:
                return False
            pos = self._position()
            return pos is not None and pos.weight < 100

    def tick(self, *, sync: bool = True) -> tuple[list[Transition], SyncJob | None]:
        """
        Let the migration decide what is due now: a phase ending (or holding, or
        rolling back) and (with ``sync``) a round trip to the shared state.
        """
        p = self._progress
        if p is None or not p.stateful:
            return [], None
        with self._lock:
            if self._manual is not None:
                return [], None
            t = self._clock.monotonic()
            moves = p.step(self._clock.now().timestamp(), t)
            return moves, p.sync_job(t) if sync else None

    def synced(
        self,
        job: SyncJob,
        reply: tuple[Progress, GateTotals] | None,
        *,
        reached: bool = True,
    ) -> list[Transition]:
        """
        Take the shared state's answer to ``job`` (``None``: Redis did not answer;
        with ``reached=False`` the job was never sent).
        """
        assert self._progress is not None
        with self._lock:
            now = self._clock.now().timestamp()
            return self._progress.adopt(job, reply, now, reached=reached)

    def gate_status(self) -> GateStatus | None:
        """
        The gate's verdict now, or ``None`` without a gate.
        """
        with self._lock:
            p = self._progress
            return None if p is None else p.verdict(self._clock.monotonic())

    def phase_name(self) -> str | None:
        """
        The name of the phase in force, or ``None`` (before the start, or paused).
        """
        with self._lock:
            pos = self._phase()
            return pos.name if pos is not None else None

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """
        Override the weights by hand: pauses the migration clock and clears a rollback.

        Providers not named keep their current effective weight.

        Raises:
            ConfigError: An unknown provider, a negative weight, or all weights 0.
        """
        with self._lock:
            current = self._weights_locked()
            for name, w in weights.items():
                if name not in self._configured:
                    raise ConfigError(f"weights.{name}", "names an unknown provider")
                if not isinstance(w, int | float) or isinstance(w, bool) or w < 0:
                    raise ConfigError(f"weights.{name}", "must be a number >= 0")
                current[name] = float(w)
            if all(w == 0 for w in current.values()):
                raise ConfigError(
                    "weights", "all weights are 0; at least one must be positive"
                )
            self._manual = current
            if self._progress is not None:
                self._progress.clear_rollback()
            if self._window is not None:
                self._window.clear()

    def rolled_back(self, name: str) -> bool:
        """
        True when ``name`` is the migration target and has been rolled back.
        """
        with self._lock:
            return (
                self._rolled_back is not None
                and self._migration is not None
                and self._migration.target == name
            )

    def status(self) -> MigrationStatus | None:
        """
        The migration's phase, target weight and rollback state, or ``None`` without one.
        """
        with self._lock:
            mig = self._migration
            if mig is None:
                return None
            weights = self._weights_locked()
            shadow = self.shadow.status() if self.shadow is not None else None
            p = self._progress
            assert p is not None
            t = self._clock.monotonic()
            if self._manual is not None:
                return MigrationStatus(
                    phase=None,
                    target_weight=weights[mig.target],
                    rolled_back=False,
                    reason="paused: weights set by hand",
                    gate=p.verdict(t),
                    shadow=shadow,
                )
            return p.status(self._clock.now(), t, weights[mig.target], shadow)
