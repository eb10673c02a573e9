"""
Migration logic without a router: phase edges by the clock, and the rollback window's verdicts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from holysheep_client import MigrationConfig, MigrationPhase, RollbackConfig
from holysheep_client._routing.migration import PhasePosition, RollbackWindow, phase_at

START = datetime(2026, 3, 1, tzinfo=UTC)


def migration(
    *phases: tuple[str, float, float], started: bool = True
) -> MigrationConfig:
    """A migration from legacy to holysheep with ``(name, duration s, weight)`` phases."""
    return MigrationConfig(
        source="legacy",
        target="holysheep",
        started_at=START if started else None,
        phases=[MigrationPhase(name=n, duration=d, weight=w) for n, d, w in phases],
    )


THREE_FINITE = migration(("a", 60, 5), ("b", 60, 25), ("c", 60, 75))


def window(**kw: float | int | None) -> RollbackWindow:
    """A rollback window: 50% errors, 4 outcomes and 60 s unless told otherwise."""
    config: dict[str, float | int | None] = {
        "max_error_rate": 0.5,
        "min_requests": 4,
        "window": 60,
    }
    config.update(kw)
    return RollbackWindow(RollbackConfig(**config))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(-0.001, None, id="just-before-the-start"),
        pytest.param(0, PhasePosition(0, "a", 5, 60.0), id="at-the-start"),
        pytest.param(59.5, PhasePosition(0, "a", 5, 0.5), id="end-of-first"),
        pytest.param(60, PhasePosition(1, "b", 25, 60.0), id="second-starts-on-time"),
        pytest.param(150, PhasePosition(2, "c", 75, 30.0), id="in-the-last"),
        pytest.param(180, PhasePosition(2, "c", 75, None), id="last-weight-holds"),
    ],
)
def test_phases_start_exactly_on_their_second(
    seconds: float, expected: PhasePosition | None
) -> None:
    """Each phase starts at the sum of the durations before it, and the last one holds."""
    assert phase_at(THREE_FINITE, START + timedelta(seconds=seconds)) == expected


def test_an_open_ended_phase_holds_forever() -> None:
    """A last phase of duration 0 is in force for good, with no end."""
    m = migration(("canary", 60, 5), ("full", 0, 100))
    pos = phase_at(m, START + timedelta(days=400))
    assert pos == PhasePosition(1, "full", 100, None)


def test_a_one_second_phase_is_a_phase_like_any_other() -> None:
    """Only a duration of 0 is open-ended: a 1 s phase ends after its second."""
    m = migration(("blip", 1, 5), ("rest", 60, 25))
    assert phase_at(m, START + timedelta(seconds=0.5)) == PhasePosition(
        0, "blip", 5, 0.5
    )
    assert phase_at(m, START + timedelta(seconds=1)) == PhasePosition(
        1, "rest", 25, 60.0
    )


def test_no_start_means_no_phase() -> None:
    """A migration without started_at has no phase at any time."""
    assert phase_at(migration(("a", 60, 5), started=False), START) is None


@pytest.mark.parametrize(
    ("outcomes", "rolled_back"),
    [
        pytest.param([False] * 3, False, id="three-failures-not-judged"),
        pytest.param([False] * 4, True, id="judged-at-min-requests"),
    ],
)
def test_judging_starts_at_exactly_min_requests(
    outcomes: list[bool], rolled_back: bool
) -> None:
    """No verdict below min_requests outcomes; the min_requests-th outcome is judged."""
    w = window(min_requests=4)
    reasons = [w.record(float(i), ok) for i, ok in enumerate(outcomes)]
    assert reasons[:-1] == [None] * (len(outcomes) - 1)
    assert (reasons[-1] is not None) is rolled_back


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        pytest.param(2, None, id="at-the-rate-stays"),
        pytest.param(
            3, "error rate 75.0% over the last 4 calls exceeds 50.0%", id="above"
        ),
    ],
)
def test_only_an_error_rate_above_the_maximum_rolls_back(
    errors: int, reason: str | None
) -> None:
    """An error rate equal to max_error_rate is tolerated; above it rolls back."""
    w = window(max_error_rate=0.5, min_requests=4)
    outcomes = [False] * errors + [True] * (4 - errors)
    got = [w.record(float(i), ok) for i, ok in enumerate(outcomes)]
    assert got[-1] == reason


@pytest.mark.parametrize(
    ("last_at", "kept"),
    [
        pytest.param(60.0, 4, id="exactly-window-old-still-counts"),
        pytest.param(60.001, 3, id="older-than-window-leaves"),
    ],
)
def test_outcomes_leave_only_once_older_than_the_window(
    last_at: float, kept: int
) -> None:
    """An outcome exactly ``window`` seconds old still counts; an older one is dropped."""
    w = window(max_error_rate=0.5, min_requests=4, window=60)
    for t, ok in [(0.0, True), (1.0, False), (2.0, False)]:
        assert w.record(t, ok) is None
    got = w.record(last_at, False)
    assert len(w) == kept
    # 3 errors of 4 are judged and too many; 3 outcomes are not judged yet.
    assert (got is not None) is (kept == 4)


@pytest.mark.parametrize(
    ("latencies", "reason"),
    [
        pytest.param([0.1] * 19 + [2.0], None, id="20-one-slow-is-the-top-5pct"),
        pytest.param(
            [0.1] * 18 + [2.0] * 2,
            "p95 latency 2.000s exceeds 0.500s",
            id="20-two-slow",
        ),
        pytest.param(
            [0.1] * 9 + [2.0],
            "p95 latency 2.000s exceeds 0.500s",
            id="10-p95-is-the-max",
        ),
        pytest.param([0.1] * 18 + [0.5] * 2, None, id="p95-at-the-ceiling"),
    ],
)
def test_p95_latency_above_the_ceiling_rolls_back(
    latencies: list[float], reason: str | None
) -> None:
    """p95 is the ceil(0.95 n)-th fastest success; only a p95 above the ceiling rolls back."""
    w = window(max_error_rate=0.5, min_requests=len(latencies), max_latency_p95=0.5)
    got = [w.record(float(i), True, lat) for i, lat in enumerate(latencies)]
    assert got[:-1] == [None] * (len(latencies) - 1)
    assert got[-1] == reason


def test_p95_counts_only_successes_that_have_a_latency() -> None:
    """Failed calls and calls without a latency are not part of the p95."""
    w = window(max_error_rate=0.5, min_requests=4, max_latency_p95=0.5)
    assert w.record(0.0, False, 9.0) is None
    assert w.record(1.0, True, None) is None
    for t in (2.0, 3.0, 4.0):
        assert w.record(t, True, 0.1) is None
    assert w.record(5.0, True, 0.1) is None  # now four latencies, all fast
    assert w.record(6.0, True, 9.0) is not None


def test_p95_waits_for_min_requests_latencies() -> None:
    """With fewer than min_requests latencies in the window there is no latency verdict."""
    w = window(max_error_rate=0.5, min_requests=4, max_latency_p95=0.5)
    assert w.record(0.0, True, None) is None
    for t in (1.0, 2.0, 3.0):
        assert w.record(t, True, 9.0) is None
    assert w.record(4.0, True, 9.0) == "p95 latency 9.000s exceeds 0.500s"


def test_without_a_ceiling_latency_never_rolls_back() -> None:
    """With max_latency_p95 unset, slow successes are fine."""
    w = window(min_requests=2)
    assert [w.record(float(i), True, 100.0) for i in range(5)] == [None] * 5


def test_clear_forgets_every_outcome() -> None:
    """clear() empties the window, so judging waits for min_requests again."""
    w = window(min_requests=2, max_error_rate=0.0)
    assert w.record(0.0, True) is None
    w.clear()
    assert len(w) == 0
    assert w.record(1.0, False) is None
    assert w.record(2.0, False) is not None
