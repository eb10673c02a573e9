"""
The instruments the hook records: names, units, descriptions and bucket boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

    from .._observe.details import RequestDetails

__all__ = [
    "DURATION_BUCKETS",
    "METRICS",
    "TOKEN_BUCKETS",
    "CallInstruments",
    "api_only",
]

METRICS: Final[Mapping[str, tuple[str, str]]] = {
    "gen_ai.client.operation.duration": ("s", "Duration of a whole call."),
    "gen_ai.client.token.usage": ("{token}", "Tokens per call, by gen_ai.token.type."),
    "gen_ai.client.operation.time_to_first_chunk": (
        "s",
        "Time from the start of a stream to its first delta.",
    ),
    "holysheep.client.attempts": ("{attempt}", "HTTP attempts."),
    "holysheep.client.retries": ("{retry}", "Retries, by provider and reason."),
    "holysheep.client.failovers": ("{failover}", "Failovers, by target provider."),
    "holysheep.client.hedges": ("{hedge}", "Hedged requests started."),
    "holysheep.client.breaker.transitions": (
        "{transition}",
        "Circuit breaker state changes.",
    ),
    "holysheep.client.rate_limit.wait": (
        "s",
        "Time calls waited for rate-limit or concurrency capacity.",
    ),
    "holysheep.client.cost": ("USD", "Cost of answered calls, by provider."),
    "holysheep.migration.gate.samples": (
        "{outcome}",
        "Target outcomes in the migration gate's window.",
    ),
    "holysheep.migration.gate.error_rate": (
        "1",
        "Share of the gate window's target outcomes that failed.",
    ),
    "holysheep.migration.gate.latency_p95": (
        "s",
        "p95 latency of the target's answers in the gate's window.",
    ),
    "holysheep.migration.gate.agreement": (
        "1",
        "Mean comparator score of the target's shadow answers in the gate's window.",
    ),
    "holysheep.migration.gate.cost_ratio": (
        "1",
        "Target's mean cost per call over the source's, in the gate's window.",
    ),
    "holysheep.migration.gate.passing": ("1", "1 while the gate passes, else 0."),
    "holysheep.migration.gate.failing": (
        "1",
        "1 while a threshold (holysheep.migration.gate.threshold) fails, else 0.",
    ),
    "holysheep.migration.shadow.calls": (
        "{call}",
        "Shadow calls to the migration target, by outcome.",
    ),
    "holysheep.migration.shadow.cost": (
        "USD",
        "Cost of shadow calls (never in holysheep.client.cost).",
    ),
}

DURATION_BUCKETS = [
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
]
TOKEN_BUCKETS = [float(4**i) for i in range(14)]


def api_only(provider: object) -> bool:
    """
    Whether ``provider`` is one of the OpenTelemetry API's own: a no-op, or the
    proxy that stands in until an SDK provider is set. Either records nothing.
    """
    return type(provider).__module__.startswith(
        ("opentelemetry.trace", "opentelemetry.metrics")
    )


class CallInstruments:
    """
    The hook's instruments for calls and attempts, made once from its meter.

    Args:
        meter: The hook's meter.
    """

    def __init__(self, meter: Meter) -> None:
        def histogram(name: str, buckets: list[float]) -> Any:
            unit, description = METRICS[name]
            return meter.create_histogram(
                name,
                unit=unit,
                description=description,
                explicit_bucket_boundaries_advisory=buckets,
            )

        def counter(name: str) -> Any:
            unit, description = METRICS[name]
            return meter.create_counter(name, unit=unit, description=description)

        self.duration = histogram("gen_ai.client.operation.duration", DURATION_BUCKETS)
        self.tokens = histogram("gen_ai.client.token.usage", TOKEN_BUCKETS)
        self.ttft = histogram(
            "gen_ai.client.operation.time_to_first_chunk", DURATION_BUCKETS
        )
        self.waits = histogram("holysheep.client.rate_limit.wait", DURATION_BUCKETS)
        self.attempts = counter("holysheep.client.attempts")
        self.retries = counter("holysheep.client.retries")
        self.failovers = counter("holysheep.client.failovers")
        self.hedges = counter("holysheep.client.hedges")
        self.transitions = counter("holysheep.client.breaker.transitions")
        self.cost = counter("holysheep.client.cost")

    def record(self, d: RequestDetails, attrs: dict[str, Any]) -> None:
        """
        Record one call's duration, tokens, cost and time to first chunk.
        """
        self.duration.record(d.latency, attrs)
        if d.error is None:
            self.tokens.record(d.input_tokens, {**attrs, "gen_ai.token.type": "input"})
            self.tokens.record(
                d.output_tokens, {**attrs, "gen_ai.token.type": "output"}
            )
            if d.cost_usd is not None and d.provider is not None:
                self.cost.add(d.cost_usd, attrs)
        if d.time_to_first_token is not None:
            self.ttft.record(d.time_to_first_token, attrs)
