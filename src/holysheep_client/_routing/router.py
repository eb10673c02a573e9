"""
WeightedRouter: weighted and sticky draws, failover order, migration weights, rollback.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Collection, Mapping

from .._clock import SYSTEM_CLOCK
from .._config import MigrationConfig
from .._models import MigrationStatus
from .._types import Clock
from ..errors import ConfigError
from .migration import PhasePosition, RollbackWindow, phase_at

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

    Shared by every call of a client; its state (manual weights, rollback, the
    target's outcome window) is guarded by a lock, so `set_weights` is safe from
    any thread or task.

    Args:
        providers: Provider names with their configured weights, in config order.
        migration: An optional timed migration.
        clock: Time source for phases and the rollback window.
        rng: Randomness for unkeyed draws.
    """

    def __init__(
        self,
        providers: Mapping[str, float],
        *,
        migration: MigrationConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self._configured = dict(providers)
        self._order = list(providers)
        self._migration = migration
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._manual: dict[str, float] | None = None
        self._rolled_back: str | None = None
        self._window = (
            RollbackWindow(migration.rollback)
            if migration is not None and migration.rollback is not None
            else None
        )

    def __repr__(self) -> str:
        return f"<WeightedRouter providers={self._order!r} migration={self._migration is not None}>"

    @property
    def names(self) -> list[str]:
        """
        Provider names in config order.
        """
        return list(self._order)

    def _phase(self) -> PhasePosition | None:
        if self._migration is None or self._manual is not None:
            return None
        return phase_at(self._migration, self._clock.now())

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
        pos = phase_at(mig, self._clock.now())
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
        self, ok: bool, latency: float | None = None
    ) -> str | None:
        """
        Record whether the target answered a call whose primary draw was the target.

        Returns:
            The rollback reason when this outcome triggered the rollback, else ``None``.
        """
        with self._lock:
            if self._window is None or self._rolled_back is not None or self._manual:
                return None
            reason = self._window.record(self._clock.monotonic(), ok, latency)
            if reason is not None:
                self._rolled_back = reason
            return reason

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
            self._rolled_back = None
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
            if self._manual is not None:
                return MigrationStatus(
                    phase=None,
                    target_weight=weights[mig.target],
                    rolled_back=False,
                    reason="paused: weights set by hand",
                )
            pos = phase_at(mig, self._clock.now())
            return MigrationStatus(
                phase=pos.name if pos is not None else None,
                target_weight=weights[mig.target],
                rolled_back=self._rolled_back is not None,
                reason=self._rolled_back,
            )
