"""
The migration's instruments: the gate's figures as gauges, shadow calls and their
cost as counters (the same figures as ``health().migration``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Meter

from .._observe.details import GateDetails, ShadowDetails
from ._metrics import METRICS

__all__ = ["MigrationInstruments"]

_GAUGES = {
    "holysheep.migration.gate.samples": "samples",
    "holysheep.migration.gate.error_rate": "error_rate",
    "holysheep.migration.gate.latency_p95": "latency_p95",
    "holysheep.migration.gate.agreement": "agreement",
    "holysheep.migration.gate.cost_ratio": "cost_ratio",
}


_THRESHOLDS = (
    "max_error_rate",
    "max_latency_p95",
    "min_agreement",
    "max_cost_ratio",
    "min_samples",
)


class MigrationInstruments:
    """
    Records `GateDetails` and `ShadowDetails` on one meter.

    Args:
        meter: The hook's meter.
    """

    def __init__(self, meter: Meter) -> None:
        def gauge(name: str) -> Any:
            unit, description = METRICS[name]
            return meter.create_gauge(name, unit=unit, description=description)

        self._gauges = {name: gauge(name) for name in _GAUGES}
        self._passing = gauge("holysheep.migration.gate.passing")
        self._failing = gauge("holysheep.migration.gate.failing")
        unit, description = METRICS["holysheep.migration.shadow.calls"]
        self._shadow_calls = meter.create_counter(
            "holysheep.migration.shadow.calls", unit=unit, description=description
        )
        unit, description = METRICS["holysheep.migration.shadow.cost"]
        self._shadow_cost = meter.create_counter(
            "holysheep.migration.shadow.cost", unit=unit, description=description
        )

    def gate(self, d: GateDetails) -> None:
        """
        Set the gauges from the gate's figures (a figure not measured is not set).
        """
        status = d.status
        if status is None:
            return
        attrs: dict[str, Any] = {"holysheep.provider": d.target}
        if d.phase is not None:
            attrs["holysheep.migration.phase"] = d.phase
        for name, field in _GAUGES.items():
            value = getattr(status, field)
            if value is not None:
                self._gauges[name].set(value, attrs)
        self._passing.set(1 if status.passing else 0, attrs)
        for name in _THRESHOLDS:
            flag = {**attrs, "holysheep.migration.gate.threshold": name}
            self._failing.set(1 if name in status.failing else 0, flag)

    def shadow(self, d: ShadowDetails) -> None:
        """
        Count one shadow call by outcome, and its cost.
        """
        attrs: dict[str, Any] = {
            "holysheep.provider": d.provider,
            "holysheep.shadow.outcome": d.outcome,
        }
        if d.error is not None:
            attrs["error.type"] = d.error
        self._shadow_calls.add(1, attrs)
        if d.cost_usd:
            self._shadow_cost.add(d.cost_usd, {"holysheep.provider": d.provider})
