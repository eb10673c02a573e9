"""
The migration gate's sums and verdict: figures, failing thresholds by field name,
the latency histogram's bound, and the sliding window on a fake clock.
"""

from __future__ import annotations

import random

import pytest

from holysheep_client import ConfigError, GateConfig
from holysheep_client._routing.gate import (
    GateTotals,
    GateWindow,
    explain,
    judge,
    latency_bound,
    latency_bucket,
)
from holysheep_client.testing import FakeClock


def totals(
    *,
    ok: int = 0,
    failed: int = 0,
    latency: float = 0.2,
    agreement: float | None = None,
    target_cost: float | None = None,
    source_cost: float | None = None,
) -> GateTotals:
    t = GateTotals()
    for _ in range(ok):
        t.add_outcome(True, latency, target_cost)
        if agreement is not None:
            t.add_agreement(agreement)
        if source_cost is not None:
            t.add_source_cost(source_cost)
    for _ in range(failed):
        t.add_outcome(False, None, None)
    return t


def test_figures_come_from_the_sums() -> None:
    """Error rate, agreement and cost ratio are the window's means."""
    t = totals(ok=90, agreement=0.5, target_cost=0.001, source_cost=0.004)
    t.merge(totals(failed=10))
    status = judge(GateConfig(max_error_rate=0.2, min_samples=50), t)
    assert status.samples == 100
    assert status.error_rate == pytest.approx(0.1)
    assert status.agreement == pytest.approx(0.5)
    assert status.cost_ratio == pytest.approx(0.25)
    assert status.passing and status.failing == []


@pytest.mark.parametrize(
    ("gate", "failing"),
    [
        pytest.param(
            GateConfig(max_error_rate=0.05, min_samples=1),
            ["max_error_rate"],
            id="errors",
        ),
        pytest.param(
            GateConfig(max_latency_p95=0.1, min_samples=1),
            ["max_latency_p95"],
            id="latency",
        ),
        pytest.param(
            GateConfig(min_agreement=0.9, min_samples=1),
            ["min_agreement"],
            id="agreement",
        ),
        pytest.param(
            GateConfig(max_cost_ratio=0.2, min_samples=1), ["max_cost_ratio"], id="cost"
        ),
        pytest.param(
            GateConfig(max_error_rate=0.5, min_samples=500),
            ["min_samples"],
            id="samples",
        ),
        pytest.param(
            GateConfig(max_error_rate=0.05, min_agreement=0.9, min_samples=500),
            ["max_error_rate", "min_agreement", "min_samples"],
            id="several-in-field-order",
        ),
    ],
)
def test_failing_names_each_threshold_by_its_field(
    gate: GateConfig, failing: list[str]
) -> None:
    """Each threshold that does not hold is named by its GateConfig field, in field order."""
    t = totals(ok=90, latency=0.3, agreement=0.5, target_cost=0.003, source_cost=0.004)
    t.merge(totals(failed=10))
    status = judge(gate, t)
    assert status.failing == failing
    assert not status.passing


def test_a_threshold_not_measured_yet_fails() -> None:
    """With no shadow score and no price, agreement and cost ratio cannot pass."""
    gate = GateConfig(min_agreement=0.5, max_cost_ratio=2, min_samples=1)
    status = judge(gate, totals(ok=5))
    assert status.agreement is None and status.cost_ratio is None
    assert status.failing == ["min_agreement", "max_cost_ratio"]
    assert explain(gate, status) == (
        "agreement not measured yet (min_agreement 0.50);"
        " cost_ratio not measured yet (max_cost_ratio 2.00)"
    )


def test_explain_names_figure_and_threshold() -> None:
    """The hold's reason says the figure, the threshold's field name and its value."""
    gate = GateConfig(min_agreement=0.95, min_samples=1)
    text = explain(gate, judge(gate, totals(ok=4, agreement=0.5)))
    assert text == "agreement 0.50 below min_agreement 0.95"


@pytest.mark.parametrize("seconds", [0.0005, 0.001, 0.0123, 0.2, 1.0, 7.5, 100.0])
def test_p95_is_an_upper_bound_within_five_percent(seconds: float) -> None:
    """A latency's bucket bound is at least the latency and at most 4.5% above it."""
    bound = latency_bound(latency_bucket(seconds))
    assert bound >= min(seconds, 0.001) * (1 - 1e-9)
    if seconds >= 0.001:
        assert bound <= seconds * 1.045


def test_p95_of_a_spread_matches_the_exact_value() -> None:
    """The histogram's p95 of 1000 random latencies is within 4.5% above the exact p95."""
    rng = random.Random(5)
    values = [rng.uniform(0.05, 2.0) for _ in range(1000)]
    t = GateTotals()
    for v in values:
        t.add_outcome(True, v, None)
    exact = sorted(values)[949]
    p95 = t.latency_p95()
    assert p95 is not None and exact <= p95 <= exact * 1.045


def test_sums_round_trip_through_fields() -> None:
    """The sums written as Redis fields read back to the same figures."""
    t = totals(ok=7, latency=0.4, agreement=0.75, target_cost=0.01, source_cost=0.02)
    t.merge(totals(failed=3))
    back = GateTotals.from_fields(t.fields().items())
    gate = GateConfig(max_error_rate=1, min_samples=1)
    assert judge(gate, back) == judge(gate, t)


def test_the_window_forgets_what_is_older_than_it() -> None:
    """Outcomes leave the window once their bucket is older than the window."""
    clock = FakeClock()
    w = GateWindow(10.0)
    w.bucket(clock.monotonic()).add_outcome(False, None, None)
    clock.advance(6)
    w.bucket(clock.monotonic()).add_outcome(True, 0.1, None)
    assert w.totals(clock.monotonic()).samples == 2
    clock.advance(5)
    t = w.totals(clock.monotonic())
    assert (t.samples, t.errors) == (1, 0)
    clock.advance(10)
    assert w.totals(clock.monotonic()).samples == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param({}, "max_error_rate", id="no-threshold"),
        pytest.param(
            {"max_error_rate": 0.1, "min_samples": 0}, "min_samples", id="min-samples-0"
        ),
        pytest.param(
            {"max_error_rate": 1.5}, "max_error_rate", id="error-rate-above-1"
        ),
        pytest.param({"min_agreement": -0.1}, "min_agreement", id="agreement-below-0"),
        pytest.param({"max_cost_ratio": 0}, "max_cost_ratio", id="cost-ratio-0"),
        pytest.param(
            {"max_error_rate": 0.1, "on_fail": "panic"}, "on_fail", id="on-fail"
        ),
        pytest.param({"max_error_rate": 0.1, "window": "soon"}, "window", id="window"),
    ],
)
def test_bad_gate_names_the_field(kw: dict[str, object], field: str) -> None:
    """A gate with no threshold, or a bad value, raises ConfigError naming the field."""
    with pytest.raises(ConfigError) as err:
        GateConfig(**kw)  # type: ignore[arg-type]
    assert err.value.field == field
