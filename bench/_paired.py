"""
Two clients judged against each other finely: each kept warm on its own event loop,
measured in short chunks taken in turn, so the drift of a shared machine falls on
both alike; the same procedure run on one client against itself is the control.

Why: on a virtual machine with other tenants, one client's CPU per call moves by
8-10% from one 2,000-call run to the next (pool against pool gives per-round ratios
from 0.85 to 1.11). The median of five such rounds is good to about 4.5%, too
coarse to judge a 5% target; forty alternated pairs are good to about 1.5%.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ._variants import Call, Close, Variant

__all__ = ["Paired", "measure_pairs"]

Make = Callable[[str, str, int], Awaitable[tuple[Call, Close]]]


@dataclass(slots=True)
class Paired:
    """Per pair of chunks: ``a``'s CPU per call over ``b``'s."""

    ratios: list[float] = field(default_factory=list)
    a_cpu: list[float] = field(default_factory=list)
    b_cpu: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """The median over pairs."""
        return float(statistics.median(self.ratios))

    @property
    def spread(self) -> float:
        """About the median's standard error: 1.253 sigma / sqrt(n), with sigma
        taken from the interquartile range (IQR / 1.349), which outliers move less."""
        q1, _, q3 = statistics.quantiles(self.ratios, n=4)
        return float(1.253 * (q3 - q1) / 1.349 / len(self.ratios) ** 0.5)


class _Warm:
    """One client on its own event loop, its pool opened, ready for chunks."""

    def __init__(self, make: Make, origin: str, url: str, conc: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.call, self.close = self.loop.run_until_complete(make(origin, url, conc))
        self.conc = conc
        self.loop.run_until_complete(self._calls(max(conc, 100), 1))

    async def _calls(self, workers: int, each: int) -> None:
        async def worker() -> None:
            for _ in range(each):
                await self.call()

        await asyncio.gather(*(worker() for _ in range(workers)))

    def chunk(self, calls: int) -> float:
        """CPU seconds per call over ``calls`` calls at the client's concurrency."""
        each = max(calls // self.conc, 1)
        gc.collect()
        start = time.process_time()
        self.loop.run_until_complete(self._calls(self.conc, each))
        return (time.process_time() - start) / (each * self.conc)

    def shut(self) -> None:
        try:
            self.loop.run_until_complete(self.close())
        finally:
            self.loop.close()


def measure_pairs(
    a: Variant,
    b: Variant,
    origin: str,
    url: str,
    *,
    pairs: int,
    calls: int,
    conc: int,
) -> Paired:
    """
    ``a`` against ``b`` over ``pairs`` pairs of ``calls``-call chunks.

    Two clients of each are built, one set ``a`` first and one ``b`` first, and
    the pairs alternate between the sets and between the orders, so neither the
    order of building nor the order of measuring favours one side.
    """
    sets: list[tuple[_Warm, _Warm]] = []
    built: list[_Warm] = []
    try:
        for first_a in (True, False):
            order = (a, b) if first_a else (b, a)
            for variant in order:  # each shut in the end, even if the next fails
                built.append(_Warm(variant.make, origin, url, conc))
            one, two = built[-2:]
            sets.append((one, two) if first_a else (two, one))
        got = Paired()
        for n in range(pairs):
            wa, wb = sets[n % 2]
            if (n // 2) % 2 == 0:
                xa, xb = wa.chunk(calls), wb.chunk(calls)
            else:
                xb, xa = wb.chunk(calls), wa.chunk(calls)
            got.a_cpu.append(xa)
            got.b_cpu.append(xb)
            got.ratios.append(xa / xb)
        return got
    finally:
        for warm in built:
            warm.shut()
