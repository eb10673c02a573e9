"""
The shadow policy: which calls the source served are sent again to the target,
under what cap, and the counts. Pure logic, no I/O: the shells only launch what
it admits (a task in `AsyncClient`, a worker thread in `Client`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from .._config import ShadowConfig
from .._content.request import ChatRequestSpec
from .._models import ChatResponse, ShadowStatus

__all__ = ["ShadowJob", "ShadowOutcome", "ShadowPolicy"]

ShadowOutcome = Literal["answered", "failed", "refused", "abandoned"]
"""How a shadow call ended: answered; failed by the target; refused before sending
(the target's breaker or rate limit); abandoned (the client closed)."""


@dataclass(frozen=True, slots=True)
class ShadowJob:
    """
    One shadow call to launch: the call's request, sent again (never streamed).

    Attributes:
        target: The migration's target.
        spec: The request as the source got it, with ``stream`` off.
        source: The source's answer, to compare with.
        started: When it was admitted, on the client's monotonic clock.
        headers: The call's ``extra_headers``, sent with it again.
    """

    target: str
    spec: ChatRequestSpec
    source: ChatResponse
    started: float
    headers: Mapping[str, str] = field(default_factory=dict)


class ShadowPolicy:
    """
    Samples the source's calls for shadowing and caps the shadow calls in flight.

    A shadow call is charged to this policy alone: its own ``max_in_flight`` and its
    own counters. It never takes a slot of the callers' bulkhead nor a retry of
    their budget (the shadow stack has neither layer).

    Shared by every call of a client; guarded by a lock.

    Args:
        config: The ``shadow`` section of the migration.
        target: The migration's target.
        rng: Randomness for the sample (seed it in tests).
    """

    __slots__ = (
        "_cost",
        "_failed",
        "_in_flight",
        "_lock",
        "_peak",
        "_rng",
        "_sent",
        "_skipped",
        "config",
        "target",
    )

    def __init__(
        self, config: ShadowConfig, target: str, *, rng: random.Random | None = None
    ) -> None:
        self.config = config
        self.target = target
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak = 0
        self._sent = 0
        self._skipped = 0
        self._failed = 0
        self._cost = 0.0

    def admit(
        self,
        spec: ChatRequestSpec,
        source: ChatResponse,
        now: float,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[ShadowJob | None, bool]:
        """
        Draw the sample for one call the source served, within the in-flight cap.

        Call it only while a phase is active and the target's weight is below 100.

        Returns:
            The job to launch (or ``None``), and whether a sampled call was skipped
            because ``max_in_flight`` shadow calls are running.
        """
        with self._lock:
            if self._rng.random() >= self.config.sample:
                return None, False
            if self._in_flight >= self.config.max_in_flight:
                self._skipped += 1
                return None, True
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        sent = replace(spec, stream=False) if spec.stream else spec
        return ShadowJob(self.target, sent, source, now, dict(headers or {})), False

    def done(self, outcome: ShadowOutcome, cost: float | None = None) -> None:
        """
        Count the end of one admitted shadow call, and free its slot.
        """
        with self._lock:
            self._in_flight -= 1
            if outcome == "answered":
                self._sent += 1
                if cost:
                    self._cost += cost
            elif outcome == "failed":
                self._sent += 1
                self._failed += 1
            elif outcome == "refused":
                self._skipped += 1

    @property
    def in_flight(self) -> int:
        """
        Shadow calls running now.
        """
        with self._lock:
            return self._in_flight

    @property
    def peak(self) -> int:
        """
        The most shadow calls that ran at once so far.
        """
        with self._lock:
            return self._peak

    def status(self) -> ShadowStatus:
        """
        The counts so far.
        """
        with self._lock:
            return ShadowStatus(
                sent=self._sent,
                skipped=self._skipped,
                failed=self._failed,
                cost_usd=self._cost,
            )

    def __repr__(self) -> str:
        c = self.config
        return (
            f"<ShadowPolicy target={self.target!r} sample={c.sample}"
            f" max_in_flight={c.max_in_flight}>"
        )
