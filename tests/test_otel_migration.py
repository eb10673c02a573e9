"""
OpenTelemetry carries the migration gate's figures (the same as health()) and the
shadow calls' count and cost, apart from the callers' cost metric.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from holysheep_client import (
    ClientConfig,
    GateConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    ShadowConfig,
)
from holysheep_client.otel import METRICS, OpenTelemetryHook
from holysheep_client.testing import FakeClock, FakeProvider
from shells import Shell


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    out: dict[str, list[Any]] = {}
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


@pytest.mark.anyio
async def test_gate_figures_and_shadow_calls_are_metrics(shell: Shell) -> None:
    """The gate's gauges equal health().migration.gate; shadow calls and cost are counted."""
    clock = FakeClock()
    legacy = FakeProvider(reply='{"a": 1, "b": 2}')
    target = FakeProvider(reply='{"a": 1, "b": 3}')
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy", base_url=legacy.url, api_key="test-key",
                protocol="openai", weight=100, models={"m": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep", base_url=target.url, api_key="test-key",
                weight=0, models={"m": "deepseek-v3.2"},
            ),
        ],
        rate_limit=None,
        migration=MigrationConfig(
            source="legacy", target="holysheep", started_at=clock.now() - timedelta(1),
            phases=[MigrationPhase(name="dark", duration=0, weight=0)],
            gate=GateConfig(min_agreement=0.9, max_cost_ratio=0.5, min_samples=5),
            shadow=ShadowConfig(sample=1.0, comparator="json_fields"),
        ),
    )  # fmt: skip
    reader = InMemoryMetricReader()
    hook = OpenTelemetryHook(meter_provider=MeterProvider(metric_readers=[reader]))
    fakes = {"legacy": legacy, "holysheep": target}
    async with shell.client(
        config, fakes=fakes, clock=clock, rng=random.Random(0), hooks=[hook]
    ) as client:
        for _ in range(8):
            await client.chat(messages=[{"role": "user", "content": "x"}], model="m")
        policy = client.raw._router.shadow
        assert policy is not None
        for _ in range(200):  # the in-process shadow calls end within milliseconds
            if policy.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        clock.advance(1.5)
        health = client.health()
    gate = health.migration.gate if health.migration else None
    assert gate is not None and gate.samples == 8
    got = points(reader)
    assert set(got) <= set(METRICS)
    (agreement,) = got["holysheep.migration.gate.agreement"]
    assert agreement.value == pytest.approx(gate.agreement) == pytest.approx(0.5)
    (ratio,) = got["holysheep.migration.gate.cost_ratio"]
    assert ratio.value == pytest.approx(gate.cost_ratio)
    (samples,) = got["holysheep.migration.gate.samples"]
    assert samples.value == 8
    (passing,) = got["holysheep.migration.gate.passing"]
    assert passing.value == 0
    failing = {
        p.attributes["holysheep.migration.gate.threshold"]: p.value
        for p in got["holysheep.migration.gate.failing"]
    }
    assert failing == {
        "max_error_rate": 0,
        "max_latency_p95": 0,
        "min_agreement": 1,
        "max_cost_ratio": 0,
        "min_samples": 0,
    }
    calls = {
        p.attributes["holysheep.shadow.outcome"]: p.value
        for p in got["holysheep.migration.shadow.calls"]
    }
    assert calls == {"answered": 8}
    (shadow_cost,) = got["holysheep.migration.shadow.cost"]
    assert health.migration is not None and health.migration.shadow is not None
    assert shadow_cost.value == pytest.approx(health.migration.shadow.cost_usd)
    costs = {p.attributes["holysheep.provider"] for p in got["holysheep.client.cost"]}
    assert costs == {"legacy"}
