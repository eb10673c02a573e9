"""
RUNTIME: the package's process-wide mutable state, in one named object with a lock.

Like stamina's ``CONFIG``: the test switch `no_backoff` and the caches of classes
built on first use (hybrid error classes, the observed-stream classes, error
mapping tables), and the bounded caches of encoded content (tool schemas' JSON).
Nothing else in the package keeps mutable module globals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["RUNTIME", "NoBackoff", "Runtime"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NoBackoff:
    """
    The `no_backoff()` switch: retries do not sleep, and maybe make fewer attempts.
    """

    attempts: int | None


class Runtime:
    """
    Process-wide switches and caches, shared by every client; guarded by ``lock``.

    Reads take no lock (a read sees the old or the new value, both valid);
    writes and cache fills take it.

    Args:
        lock: The lock guarding writes (re-entrant, for nested cache fills).
    """

    __slots__ = ("_bounded", "_cache", "_lock", "no_backoff")

    def __init__(self, lock: AbstractContextManager[Any]) -> None:
        self._lock = lock
        self._cache: dict[Hashable, Any] = {}
        self._bounded: dict[str, dict[Hashable, Any]] = {}
        self.no_backoff: NoBackoff | None = None

    def swap_no_backoff(self, value: NoBackoff | None) -> NoBackoff | None:
        """
        Set the `no_backoff` switch; returns the previous value (to put back).
        """
        with self._lock:
            previous, self.no_backoff = self.no_backoff, value
        return previous

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """
        The value cached under ``key``, built by ``build()`` the first time.
        """
        try:
            value: T = self._cache[key]
        except KeyError:
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = build()
                value = self._cache[key]
        return value

    def lookup(self, space: str, key: Hashable) -> Any:
        """
        The value cached under ``key`` in the cache ``space`` by `bounded`, or ``None``.
        """
        entries = self._bounded.get(space)
        return None if entries is None else entries.get(key)

    def bounded(
        self, space: str, key: Hashable, build: Callable[[], T], limit: int
    ) -> T:
        """
        The value cached under ``key`` in the cache ``space``, built by ``build()``
        when missing; a space about to hold more than ``limit`` entries is emptied
        first (content keys from callers' data must not grow without end).
        """
        entries = self._bounded.get(space)
        if entries is not None:
            try:
                value: T = entries[key]
            except KeyError:
                pass
            else:
                return value
        value = build()
        with self._lock:
            entries = self._bounded.setdefault(space, {})
            if len(entries) >= limit:
                entries.clear()
            entries[key] = value
        return value

    def __repr__(self) -> str:
        return f"<Runtime no_backoff={self.no_backoff} cached={len(self._cache)}>"


# Re-entrant: a cache entry's build may fill another entry.
RUNTIME = Runtime(threading.RLock())
