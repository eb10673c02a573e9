"""
The instruments the hook records: names, units, descriptions and bucket boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["DURATION_BUCKETS", "METRICS", "TOKEN_BUCKETS"]

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
