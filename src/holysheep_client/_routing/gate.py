"""
The migration gate: the target's outcomes over a sliding window, and the verdict
on them. Pure logic, no I/O.

The window keeps sums, not samples: per time bucket, the outcome and error counts,
a latency histogram (buckets 2^(1/16) apart, so the reported p95 is the upper bound
of its bucket, at most 4.5% above the exact value), the agreement scores' sum and
count, and the target's and the source's costs. Sums add up, so the same figures
come out of one process's window and out of Redis, where every replica adds its
own (see ``_resilience/shared/migration.py``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .._config import GateConfig
from .._models import GateStatus

__all__ = [
    "LATENCY_BUCKETS",
    "GateTotals",
    "GateWindow",
    "explain",
    "judge",
    "latency_bucket",
    "latency_bound",
    "totals_of",
]

_PER_OCTAVE = 16
_BASE = 0.001  # seconds: the upper bound of bucket 0
#: Latency histogram buckets: 1 ms to about 4.6 hours.
LATENCY_BUCKETS = _PER_OCTAVE * 24
_TIME_BUCKETS = 20

# The scalar sums, by their short names (the Redis hash fields use them too).
_SCALARS = ("n", "e", "as", "an", "ts", "tn", "ss", "sn")


def latency_bucket(seconds: float) -> int:
    """
    The histogram bucket of a latency: the first whose upper bound is not below it.
    """
    if not seconds > _BASE:  # also NaN
        return 0
    k = math.ceil(math.log2(seconds / _BASE) * _PER_OCTAVE - 1e-9)
    return min(max(k, 0), LATENCY_BUCKETS - 1)


def latency_bound(bucket: int) -> float:
    """
    The upper bound of a histogram bucket, in seconds.
    """
    return float(_BASE * 2.0 ** (bucket / _PER_OCTAVE))


@dataclass(slots=True)
class GateTotals:
    """
    Sums over some target outcomes: what the gate's figures are computed from.

    Attributes:
        samples: Target outcomes (primary-drawn and shadow calls).
        errors: Those that failed.
        latencies: Answered outcomes per latency bucket.
        agreement_sum: The sum of the shadow answers' comparator scores.
        agreements: How many scores.
        target_cost: The sum of priced target answers' costs, in USD.
        target_priced: How many.
        source_cost: The sum of priced source answers' costs, in USD.
        source_priced: How many.
    """

    samples: int = 0
    errors: int = 0
    latencies: dict[int, int] = field(default_factory=dict)
    agreement_sum: float = 0.0
    agreements: int = 0
    target_cost: float = 0.0
    target_priced: int = 0
    source_cost: float = 0.0
    source_priced: int = 0

    def add_outcome(self, ok: bool, latency: float | None, cost: float | None) -> None:
        """
        Count one target outcome (``latency`` and ``cost`` of an answer, when known).
        """
        self.samples += 1
        if not ok:
            self.errors += 1
            return
        if latency is not None:
            k = latency_bucket(latency)
            self.latencies[k] = self.latencies.get(k, 0) + 1
        if cost is not None:
            self.target_cost += cost
            self.target_priced += 1

    def add_agreement(self, score: float) -> None:
        """
        Count one shadow answer's comparator score.
        """
        self.agreement_sum += score
        self.agreements += 1

    def add_source_cost(self, cost: float) -> None:
        """
        Count one priced answer of the source.
        """
        self.source_cost += cost
        self.source_priced += 1

    def merge(self, other: GateTotals) -> None:
        """
        Add ``other``'s sums to these.
        """
        for name, value in other.fields().items():
            self._add_field(name, value)

    def empty(self) -> bool:
        """
        True when nothing was counted.
        """
        return self.samples == 0 and self.agreements == 0 and self.source_priced == 0

    def fields(self) -> dict[str, float]:
        """
        The sums by short field name (``n``, ``e``, ``l<bucket>``, ...), zeros left out.
        """
        values = (
            self.samples,
            self.errors,
            self.agreement_sum,
            self.agreements,
            self.target_cost,
            self.target_priced,
            self.source_cost,
            self.source_priced,
        )
        out: dict[str, float] = {
            k: v for k, v in zip(_SCALARS, values, strict=True) if v
        }
        out.update({f"l{k}": n for k, n in self.latencies.items() if n})
        return out

    @classmethod
    def from_fields(cls, items: Iterable[tuple[str, float]]) -> GateTotals:
        """
        Sums read back from `fields` (unknown names are ignored).
        """
        totals = cls()
        for name, value in items:
            totals._add_field(name, value)
        return totals

    def _add_field(self, name: str, value: float) -> None:
        if name.startswith("l"):
            try:
                k = int(name[1:])
            except ValueError:
                return
            if 0 <= k < LATENCY_BUCKETS:
                self.latencies[k] = self.latencies.get(k, 0) + int(value)
            return
        if name == "n":
            self.samples += int(value)
        elif name == "e":
            self.errors += int(value)
        elif name == "as":
            self.agreement_sum += value
        elif name == "an":
            self.agreements += int(value)
        elif name == "ts":
            self.target_cost += value
        elif name == "tn":
            self.target_priced += int(value)
        elif name == "ss":
            self.source_cost += value
        elif name == "sn":
            self.source_priced += int(value)

    def latency_p95(self) -> float | None:
        """
        The p95 of the answered outcomes' latencies (a bucket's upper bound), or ``None``.
        """
        n = sum(self.latencies.values())
        if n == 0:
            return None
        rank = math.ceil(0.95 * n)
        seen = 0
        for k in sorted(self.latencies):
            seen += self.latencies[k]
            if seen >= rank:
                return latency_bound(k)
        return latency_bound(max(self.latencies))  # pragma: no cover - unreachable


def judge(config: GateConfig, totals: GateTotals) -> GateStatus:
    """
    The gate's verdict on ``totals``.

    A threshold whose figure cannot be measured yet (no answer, no score, no price)
    fails; so does a window holding fewer than ``min_samples`` outcomes.
    """
    n = totals.samples
    error_rate = totals.errors / n if n else None
    p95 = totals.latency_p95()
    agreement = totals.agreement_sum / totals.agreements if totals.agreements else None
    cost_ratio = None
    if totals.target_priced and totals.source_priced and totals.source_cost > 0:
        cost_ratio = (totals.target_cost / totals.target_priced) / (
            totals.source_cost / totals.source_priced
        )
    failing = []
    c = config
    if c.max_error_rate is not None and (
        error_rate is None or error_rate > c.max_error_rate
    ):
        failing.append("max_error_rate")
    if c.max_latency_p95 is not None and (p95 is None or p95 > c.max_latency_p95):
        failing.append("max_latency_p95")
    if c.min_agreement is not None and (
        agreement is None or agreement < c.min_agreement
    ):
        failing.append("min_agreement")
    if c.max_cost_ratio is not None and (
        cost_ratio is None or cost_ratio > c.max_cost_ratio
    ):
        failing.append("max_cost_ratio")
    if n < c.min_samples:
        failing.append("min_samples")
    return GateStatus(
        passing=not failing,
        failing=failing,
        samples=n,
        error_rate=error_rate,
        latency_p95=p95,
        agreement=agreement,
        cost_ratio=cost_ratio,
    )


def explain(config: GateConfig, status: GateStatus) -> str:
    """
    One clause per failing threshold, e.g. ``agreement 0.50 below min_agreement 0.95``.
    """
    parts = []
    for name in status.failing:
        parts.append(_clause(config, status, name))
    return "; ".join(parts) if parts else "every threshold holds"


def _clause(c: GateConfig, s: GateStatus, name: str) -> str:
    if name == "min_samples":
        return f"samples {s.samples} below min_samples {c.min_samples}"
    figure, word, fmt, unit = _CLAUSES[name]
    value: float | None = getattr(s, figure)
    limit = format(getattr(c, name), fmt) + unit
    if value is None:
        return f"{figure} not measured yet ({name} {limit})"
    return f"{figure} {format(value, fmt)}{unit} {word} {name} {limit}"


# threshold -> (figure, how it fails, format, unit)
_CLAUSES = {
    "max_error_rate": ("error_rate", "above", ".1%", ""),
    "max_latency_p95": ("latency_p95", "above", ".3f", "s"),
    "min_agreement": ("agreement", "below", ".2f", ""),
    "max_cost_ratio": ("cost_ratio", "above", ".2f", ""),
}


class GateWindow:
    """
    One process's target outcomes over the gate's sliding window, in time buckets.

    The window is cut into 20 buckets of ``window / 20`` seconds; a bucket leaves as
    a whole once it is older than the window. Not thread-safe by itself: the router
    that owns it holds the lock.

    Args:
        window: The window in seconds.
    """

    __slots__ = ("_buckets", "_width")

    def __init__(self, window: float) -> None:
        self._width = window / _TIME_BUCKETS
        self._buckets: deque[tuple[int, GateTotals]] = deque()

    def _current(self, t: float) -> GateTotals:
        index = int(t // self._width)
        self._expire(index)
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append((index, GateTotals()))
        return self._buckets[-1][1]

    def _expire(self, index: int) -> None:
        while self._buckets and self._buckets[0][0] <= index - _TIME_BUCKETS:
            self._buckets.popleft()

    def bucket(self, t: float) -> GateTotals:
        """
        The sums of the bucket holding monotonic time ``t``, to count into.
        """
        return self._current(t)

    def totals(self, t: float) -> GateTotals:
        """
        The sums over the window ending at monotonic time ``t``.
        """
        self._expire(int(t // self._width))
        out = GateTotals()
        for _, bucket in self._buckets:
            out.merge(bucket)
        return out

    def __len__(self) -> int:
        return len(self._buckets)


def totals_of(values: Mapping[str, float]) -> GateTotals:
    """
    `GateTotals` from a mapping of short field names to sums (Redis's reply).
    """
    return GateTotals.from_fields(values.items())
