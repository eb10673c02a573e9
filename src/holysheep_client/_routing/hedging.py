"""
The hedging policy: when to start a hedge, who wins, what a loser costs. No I/O.

A call not answered after the delay starts the same request on the next provider;
the first success wins, and the others are stopped. Each hedge is charged to the
client's retry budget, so hedging cannot multiply load in an outage. Each shell
runs the race on top of this policy: tasks in `AsyncClient`, worker threads in
`Client`.

```python
race = HedgeRace(walk, delay=delay, max_hedges=1, budget=budget, clock=clock)
launch(race.start())
while running:
    done = wait_for_first(running, timeout=race.wait())
    if not done:
        if (name := race.timed_out()) is not None:
            launch(name)
        continue
    for each finished: return its result, or `race.failed(name, error, running)`
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._types import Clock
from .failover import FailoverPlan

if TYPE_CHECKING:
    from .._config import HedgingConfig
    from .._resilience.budget import RetryBudget

__all__ = ["HedgeRace", "hedge_delay"]


def hedge_delay(
    config: HedgingConfig | None, latencies: Sequence[float]
) -> float | None:
    """
    The hedging delay in seconds now, or ``None`` when hedging is off.

    Args:
        config: The hedging settings.
        latencies: Recent latencies of answered calls (any order), for a quantile
            delay such as ``"p95"``.
    """
    if config is None:
        return None
    q = config.quantile
    if q is None:
        assert isinstance(config.delay, float)
        return config.delay
    if len(latencies) < config.min_samples:
        return config.fallback_delay
    samples = sorted(latencies)
    return samples[min(len(samples) - 1, int(q * len(samples)))]


class HedgeRace:
    """
    One call's hedging decisions over its failover plan.

    Providers come from the plan: the primary, hedges (``reason="hedge"``) and, when
    every racer failed, the next failover. The first success wins; the shell stops
    the others, and a stopped loser is neither a success nor a failure of its
    provider (its cost is the request it already sent, charged to the budget).

    Args:
        walk: The call's failover plan.
        delay: Seconds to wait for an answer before the next hedge.
        max_hedges: Hedges at most for this call.
        budget: The client's retry budget (each hedge spends one retry).
        clock: The time source.
        deadline: The call's absolute deadline, or ``None``.
    """

    __slots__ = ("_budget", "_clock", "_deadline", "_delay", "_first", "_left", "walk")

    def __init__(
        self,
        walk: FailoverPlan,
        *,
        delay: float,
        max_hedges: int,
        budget: RetryBudget,
        clock: Clock,
        deadline: float | None,
    ) -> None:
        self.walk = walk
        self._delay = delay
        self._left = max_hedges
        self._budget = budget
        self._clock = clock
        self._deadline = deadline
        self._first: str | None = None

    def start(self) -> str | None:
        """
        The primary provider (``None``: there is none).
        """
        self._first = self.walk.next()
        return self._first

    def wait(self) -> float | None:
        """
        How long to wait for a racer to finish before deciding again (``None``: forever).
        """
        wait = self._delay if self._left > 0 and self.walk.remaining() else None
        if self._deadline is not None:
            left = max(self._deadline - self._clock.monotonic(), 0.0)
            wait = left if wait is None or left < wait else wait
        return wait

    def timed_out(self) -> str | None:
        """
        No racer finished within `wait`: the hedge to start now, or ``None``.

        Raises:
            APITimeoutError: The call's deadline has passed.
        """
        if self.walk.expired():
            raise self.walk.policy.timeout_error(self._first)
        if self._left > 0 and self.walk.remaining() and self._budget.try_spend():
            self._left -= 1
            return self.walk.next("hedge")
        self._left = 0  # the budget said no: wait for the racers
        return None

    def failed(self, name: str, error: BaseException, running: int) -> str | None:
        """
        A racer failed: the provider to fail over to, when no other racer runs.

        Raises:
            BaseException: When the call must stop (see `FailoverPlan.failed`).
        """
        self.walk.failed(name, error)
        return self.walk.next() if running == 0 else None

    def final_error(self) -> BaseException:
        """
        The error once every racer and every failover failed.
        """
        return self.walk.final_error()

    def __repr__(self) -> str:
        return f"<HedgeRace delay={self._delay} hedges_left={self._left}>"
