"""
BudgetLedger: what each tag value spent today (UTC), against the client's budgets.

Spend is the priced cost of answered calls. With ``shared_state`` the spend is kept
in Redis (one counter per tag value and day, expiring after two days), so a budget
spent in one process refuses calls in every other; when Redis is unreachable each
process counts on its own until it answers again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

from .._config import BudgetConfig
from .._types import Clock
from ..errors import BudgetExceededError

__all__ = ["ALL", "BudgetLedger", "SharedSpend"]

#: The tag value of a budget that caps the whole client (``per_tag=None``).
ALL = "*"


class SharedSpend(Protocol):
    """Spend counters across processes (see `shared.spend`)."""

    def spent(self, tag: str, value: str, day: str) -> float | None:
        """Spend so far, or ``None`` when the shared state is unreachable."""
        ...

    def add(self, tag: str, value: str, day: str, usd: float) -> None:
        """Add to a counter (in the background where it can)."""
        ...

    async def load_async(self, tag: str, value: str, day: str) -> None:
        """Read a counter not read yet."""
        ...


class BudgetLedger:
    """
    The client's budgets and today's spend per tag value.

    Shared by every call of a client; guarded by a lock.

    Args:
        budgets: The caps.
        clock: Tells the UTC day.
        shared: The counters across processes, with ``shared_state``.
    """

    def __init__(
        self,
        budgets: Sequence[BudgetConfig],
        *,
        clock: Clock,
        shared: SharedSpend | None = None,
    ) -> None:
        self.budgets = tuple(budgets)
        self._clock = clock
        self._shared = shared
        self._lock = threading.Lock()
        self._day = ""
        self._spent: dict[tuple[str, str], float] = {}

    def _today(self) -> str:
        day = self._clock.now().strftime("%Y-%m-%d")
        if day != self._day:  # a new UTC day: yesterday's spend no longer counts
            self._day, self._spent = day, {}
        return day

    def _keys(self, tags: Mapping[str, str]) -> list[tuple[BudgetConfig, str, str]]:
        out = []
        for b in self.budgets:
            if b.per_tag is None:
                out.append((b, "", ALL))
            elif b.per_tag in tags:
                out.append((b, b.per_tag, tags[b.per_tag]))
        return out

    def _spent_on(self, tag: str, value: str, day: str) -> float:
        with self._lock:
            local = self._spent.get((tag, value), 0.0)
        if self._shared is not None:
            shared = self._shared.spent(tag, value, day)
            if shared is not None:
                return max(shared, local)
        return local

    async def load_async(self, tags: Mapping[str, str]) -> None:
        """
        Read the shared spend of these tags' values where this process has not
        (asyncio: `check` then never waits on Redis, and never misses a reading).
        """
        if self._shared is None or not self.budgets:
            return
        with self._lock:
            day = self._today()
        for _, tag, value in self._keys(tags):
            await self._shared.load_async(tag, value, day)

    def check(self, tags: Mapping[str, str]) -> None:
        """
        Refuse a call whose tag value has spent its budget today.

        Raises:
            BudgetExceededError: Naming the tag and value (``status_code=None``).
        """
        if not self.budgets:
            return
        with self._lock:
            day = self._today()
        for budget, tag, value in self._keys(tags):
            spent = self._spent_on(tag, value, day)
            if spent >= budget.usd_per_day:
                who = "the client" if not tag else f"{tag}={value!r}"
                raise BudgetExceededError(
                    f"the daily budget of {budget.usd_per_day:g} USD for {who} is spent"
                    f" ({spent:.4f} USD today, UTC)",
                    tag=tag or None,
                    value=value if tag else None,
                )

    def spend(self, tags: Mapping[str, str], usd: float | None) -> None:
        """
        Add an answered call's cost to its tag values' spend today.
        """
        if not self.budgets or not usd:
            return
        with self._lock:
            day = self._today()
            keys = self._keys(tags)
            for _, tag, value in keys:
                self._spent[(tag, value)] = self._spent.get((tag, value), 0.0) + usd
        if self._shared is not None:
            for _, tag, value in keys:
                self._shared.add(tag, value, day, usd)

    def snapshot(self) -> dict[str, dict[str, float]]:
        """
        Tag -> value -> USD spent today, as this process counted it.
        """
        with self._lock:
            self._today()
            out: dict[str, dict[str, float]] = {}
            for (tag, value), usd in self._spent.items():
                out.setdefault(tag or ALL, {})[value] = usd
            return out

    def __repr__(self) -> str:
        return f"<BudgetLedger budgets={len(self.budgets)} shared={self._shared is not None}>"
