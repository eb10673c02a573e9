"""
WeightedRouter: weighted split, sticky monotone keys, failover order, migration, rollback.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from holysheep_client import (
    ConfigError,
    MigrationConfig,
    MigrationPhase,
    RollbackConfig,
)
from holysheep_client._routing.migration import phase_at
from holysheep_client._routing.router import (
    WeightedRouter,
    _unit_hash,
    rendezvous_pick,
    weighted_pick,
)
from holysheep_client.testing import FakeClock

START = datetime(2026, 3, 1, tzinfo=UTC)


def migration(**kw: object) -> MigrationConfig:
    data: dict[str, object] = {
        "source": "legacy",
        "target": "holysheep",
        "started_at": START,
        "phases": [
            MigrationPhase(name="canary", duration="24h", weight=5),
            MigrationPhase(name="rolling", duration="48h", weight=25),
            MigrationPhase(name="majority", duration="24h", weight=75),
            MigrationPhase(name="full", duration=0, weight=100),
        ],
        "rollback": RollbackConfig(max_error_rate=0.05, min_requests=50, window=300),
    }
    data.update(kw)
    return MigrationConfig(**data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "weights",
    [
        pytest.param({"a": 5, "b": 95}, id="5-95"),
        pytest.param({"a": 25, "b": 75}, id="25-75"),
        pytest.param({"a": 1, "b": 2, "c": 7}, id="three-way"),
    ],
)
def test_split_matches_weights_within_three_sigma(weights: dict[str, float]) -> None:
    """Over 10,000 seeded draws each provider's share is within 3 sigma of its weight."""
    router = WeightedRouter(weights, rng=random.Random(1234))
    n = 10_000
    counts = dict.fromkeys(weights, 0)
    for _ in range(n):
        counts[router.plan()[0]] += 1
    total = sum(weights.values())
    for name, w in weights.items():
        p = w / total
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(counts[name] - n * p) <= 3 * sigma, (name, counts[name], n * p)


def test_sticky_keys_split_by_weight_and_are_stable() -> None:
    """Keyed draws follow the weights and the same key always draws the same provider."""
    router = WeightedRouter({"legacy": 75, "holysheep": 25})
    keys = [f"user-{i}" for i in range(10_000)]
    first = [router.plan(k)[0] for k in keys]
    assert first == [router.plan(k)[0] for k in keys]
    share = first.count("holysheep") / len(keys)
    assert abs(share - 0.25) <= 3 * math.sqrt(0.25 * 0.75 / len(keys))


def test_sticky_keys_are_monotone_through_the_migration_steps() -> None:
    """As the target goes 5 -> 25 -> 75 -> 100, keys only ever move to the target."""
    keys = [f"session-{i}" for i in range(5_000)]
    previous: dict[str, str] | None = None
    for w in (0, 5, 25, 75, 100):
        weights = {"legacy": 100.0 - w, "holysheep": float(w)}
        now = {k: rendezvous_pick(k, weights) or "" for k in keys}
        if previous is not None:
            moved = [k for k in keys if previous[k] != now[k]]
            assert all(previous[k] == "legacy" and now[k] == "holysheep" for k in moved)
            assert moved, "raising the weight must move some keys"
        previous = now
    assert previous is not None and set(previous.values()) == {"holysheep"}


def test_weight_zero_gets_no_keyed_primary_but_stays_a_failover() -> None:
    """A provider of weight 0 is never a keyed primary, yet is in the failover order."""
    router = WeightedRouter({"legacy": 0, "holysheep": 10, "backup": 5})
    plans = [router.plan(f"k{i}") for i in range(500)]
    assert all(p[0] != "legacy" for p in plans)
    assert all(p[-1] == "legacy" and len(p) == 3 for p in plans)
    assert all(p[1:] == ["backup", "legacy"] for p in plans if p[0] == "holysheep")


def test_eligible_leaves_the_others_out_of_draw_and_failover() -> None:
    """Only eligible providers are drawn or failed over to, keyed or not."""
    router = WeightedRouter(
        {"legacy": 90, "holysheep": 10, "backup": 5}, rng=random.Random(3)
    )
    for i in range(200):
        assert router.plan(f"k{i}", eligible={"holysheep", "backup"}) in (
            ["holysheep", "backup"],
            ["backup", "holysheep"],
        )
        assert router.plan(eligible={"backup"}) == ["backup"]
    assert router.plan(eligible=set()) == []
    assert len(router.plan()) == 3, "eligible=None takes every provider"


def test_migration_phases_step_by_the_clock() -> None:
    """The target's weight is a step function of the clock; the source gets the rest."""
    clock = FakeClock(start=START - timedelta(hours=1))
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    assert router.weights() == {"legacy": 100, "holysheep": 0}
    seen = []
    for hours in (1, 23, 1, 47, 1, 23, 1, 1000):
        clock.advance(hours * 3600 - 1)
        seen.append(router.weights()["holysheep"])
        clock.advance(1)
    assert seen == [0, 5, 5, 25, 25, 75, 75, 100]
    status = router.status()
    assert status is not None and status.phase == "full" and status.target_weight == 100


def test_phase_at_holds_the_last_finite_phase() -> None:
    """After the last finite phase its weight holds; before started_at there is none."""
    m = migration(
        phases=[
            MigrationPhase(name="a", duration="1h", weight=5),
            MigrationPhase(name="b", duration="1h", weight=30),
        ]
    )
    assert phase_at(m, START - timedelta(seconds=1)) is None
    pos = phase_at(m, START + timedelta(days=30))
    assert pos is not None and (pos.name, pos.weight) == ("b", 30)


def test_rollback_fires_only_past_the_threshold_and_sticks() -> None:
    """Rollback waits for min_requests, fires above max_error_rate, and stays until set_weights."""
    clock = FakeClock(start=START + timedelta(hours=30))
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    assert router.weights()["holysheep"] == 25
    # 2 errors in 49 outcomes: not judged yet; 2/50 = 4%: under 5%.
    for i in range(50):
        assert router.record_target_outcome(ok=i not in (3, 7)) is None
    assert not router.rolled_back("holysheep")
    # One more error: 3/51 = 5.9% > 5%.
    reason = router.record_target_outcome(ok=False)
    assert reason is not None and "error rate" in reason
    assert router.weights() == {"legacy": 100, "holysheep": 0}
    clock.advance(48 * 3600)
    assert router.weights()["holysheep"] == 0, "rollback is sticky across phases"
    status = router.status()
    assert status is not None and status.rolled_back and status.reason == reason
    router.set_weights({"holysheep": 10})
    assert router.weights() == {"legacy": 100, "holysheep": 10}
    assert not router.rolled_back("holysheep")


def test_rollback_window_slides() -> None:
    """Errors older than the window no longer count."""
    clock = FakeClock(start=START + timedelta(hours=1))
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    for _ in range(10):
        router.record_target_outcome(ok=False)
    clock.advance(301)
    for _ in range(60):
        assert router.record_target_outcome(ok=True) is None
    assert not router.rolled_back("holysheep")


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        pytest.param({"ghost": 1}, "weights.ghost", id="unknown"),
        pytest.param({"legacy": -1}, "weights.legacy", id="negative"),
        pytest.param({"legacy": 0, "holysheep": 0}, "weights", id="all-zero"),
    ],
)
def test_set_weights_rejects_bad_input(weights: dict[str, float], field: str) -> None:
    """set_weights raises ConfigError naming the bad entry and changes nothing."""
    router = WeightedRouter({"legacy": 100, "holysheep": 0})
    with pytest.raises(ConfigError) as info:
        router.set_weights(weights)
    assert info.value.field == field
    assert router.weights() == {"legacy": 100, "holysheep": 0}


def test_set_weights_pauses_the_migration_clock() -> None:
    """After set_weights the phases no longer move the weights."""
    clock = FakeClock(start=START)
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    router.set_weights({"legacy": 60, "holysheep": 40})
    clock.advance(200 * 3600)
    assert router.weights() == {"legacy": 60, "holysheep": 40}
    status = router.status()
    assert (
        status is not None and status.reason is not None and "paused" in status.reason
    )


def test_rollback_on_a_latency_ceiling() -> None:
    """With max_latency_p95 set, a slow target is rolled back even without errors."""
    from holysheep_client._routing.migration import RollbackWindow

    window = RollbackWindow(
        RollbackConfig(
            max_error_rate=0.5, min_requests=20, window=60, max_latency_p95=0.5
        )
    )
    for i in range(19):
        assert window.record(float(i), True, 0.1) is None
    assert window.record(19.0, True, 0.1) is None
    reason = None
    for i in range(20, 40):
        reason = reason or window.record(float(i), True, 2.0)
    assert reason is not None and "p95 latency" in reason


class FixedDraw(random.Random):
    """An RNG whose ``random()`` always returns ``x``."""

    def __init__(self, x: float) -> None:
        super().__init__(0)
        self.x = x

    def random(self) -> float:
        return self.x


def test_the_key_hash_is_the_same_in_every_release() -> None:
    """Keyed draws hash with blake2b-64 into (0, 1): replicas of any version agree."""
    assert _unit_hash("user-1", "legacy") == 0.9315465184561789
    assert _unit_hash("user-1", "holysheep") == 0.7213933765427872
    weights = {"legacy": 75.0, "holysheep": 25.0}
    picks = [rendezvous_pick(f"user-{i}", weights) for i in range(8)]
    assert picks == ["holysheep", "legacy", "legacy", "legacy"] + [
        "holysheep",
        "legacy",
        "legacy",
        "holysheep",
    ]


def test_weights_are_relative_however_small() -> None:
    """Weights of 0.001 and 0.002 route exactly like 1 and 2, keyed or drawn."""
    tiny = WeightedRouter({"a": 0.001, "b": 0.002}, rng=random.Random(3))
    big = WeightedRouter({"a": 1, "b": 2}, rng=random.Random(3))
    keys = [f"user-{i}" for i in range(20)]
    keyed = [tiny.plan(k) for k in keys]
    drawn = [tiny.plan() for _ in range(20)]
    assert keyed == [big.plan(k) for k in keys]
    assert drawn == [big.plan() for _ in range(20)]
    assert {p[0] for p in keyed} == {p[0] for p in drawn} == {"a", "b"}


def test_a_seeded_router_draws_the_same_sequence() -> None:
    """Two routers given equally seeded RNGs draw the same primaries."""
    weights = {"a": 1.0, "b": 1.0, "c": 1.0}
    first = WeightedRouter(weights, rng=random.Random(42))
    second = WeightedRouter(weights, rng=random.Random(42))
    assert [first.plan()[0] for _ in range(30)] == [second.plan()[0] for _ in range(30)]


def test_a_draw_on_a_boundary_goes_to_the_next_provider() -> None:
    """Each provider owns [start, start + weight): a draw at exactly 1 of 2 is b's."""
    assert weighted_pick({"a": 1.0, "b": 1.0}, FixedDraw(0.5)) == "b"
    assert weighted_pick({"a": 1.0, "b": 1.0}, FixedDraw(0.0)) == "a"


def test_rounding_never_picks_a_zero_weight_provider() -> None:
    """When float rounding leaves the draw unspent, the last positive weight wins."""
    weights = {"a": 0.1, "b": 0.2, "c": 0.3, "z": 0.0}
    assert weighted_pick(weights, FixedDraw(1 - 2**-53)) == "c"


def test_all_zero_weights_still_give_a_failover_order() -> None:
    """With every weight 0 there is no primary, and every provider follows in config order."""
    router = WeightedRouter({"b": 0, "a": 0, "c": 0}, rng=random.Random(0))
    assert router.plan() == ["b", "a", "c"]
    assert router.plan("user-1") == ["b", "a", "c"]
    assert router.names == ["b", "a", "c"]


def test_the_migration_target_is_active_only_while_clocked() -> None:
    """is_migration_target is True for the target once started, until set_weights."""
    clock = FakeClock(start=START - timedelta(seconds=1))
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    assert not router.is_migration_target("holysheep")
    clock.advance(1)
    assert router.is_migration_target("holysheep")
    assert not router.is_migration_target("legacy")
    router.set_weights({"holysheep": 50})
    assert not router.is_migration_target("holysheep")
    plain = WeightedRouter({"legacy": 100, "holysheep": 0})
    assert not plain.is_migration_target("holysheep")


def test_status_reports_the_phase_by_the_clock() -> None:
    """status() has no phase before started_at, then the phase in force, paused by hand."""
    clock = FakeClock(start=START - timedelta(seconds=1))
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(), clock=clock
    )
    before = router.status()
    assert before is not None
    assert (before.phase, before.target_weight, before.rolled_back) == (None, 0, False)
    clock.advance(1)
    during = router.status()
    assert during is not None and (during.phase, during.target_weight) == ("canary", 5)
    assert router.weights() == {"legacy": 95.0, "holysheep": 5.0}
    router.set_weights({"holysheep": 40})
    paused = router.status()
    assert paused is not None
    assert (paused.phase, paused.target_weight, paused.rolled_back) == (None, 40, False)
    assert WeightedRouter({"legacy": 1}).status() is None


def test_outcomes_are_ignored_once_rolled_back_or_set_by_hand() -> None:
    """After a rollback, or once weights are set by hand, outcomes no longer decide."""
    clock = FakeClock(start=START)
    rollback = RollbackConfig(max_error_rate=0.0, min_requests=1, window=60)
    router = WeightedRouter(
        {"legacy": 100, "holysheep": 0},
        migration=migration(rollback=rollback),
        clock=clock,
    )
    reason = router.record_target_outcome(ok=False)
    assert reason is not None
    assert router.record_target_outcome(ok=False) is None
    assert router.rolled_back("holysheep") and not router.rolled_back("legacy")
    status = router.status()
    assert status is not None and status.reason == reason
    router.set_weights({"holysheep": 10})
    assert router.record_target_outcome(ok=False) is None
    assert not router.rolled_back("holysheep")
    no_rollback = WeightedRouter(
        {"legacy": 100, "holysheep": 0}, migration=migration(rollback=None), clock=clock
    )
    assert no_rollback.record_target_outcome(ok=False) is None


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        pytest.param(
            {"holysheep": 0}, {"legacy": 100, "holysheep": 0}, id="zero-is-fine"
        ),
        pytest.param(
            {"legacy": 1, "holysheep": 1}, {"legacy": 1, "holysheep": 1}, id="ones"
        ),
        pytest.param(
            {"holysheep": 7}, {"legacy": 100, "holysheep": 7}, id="others-kept"
        ),
    ],
)
def test_set_weights_accepts_any_non_negative_mix(
    weights: dict[str, float], expected: dict[str, float]
) -> None:
    """set_weights takes 0 and positive weights, and keeps the ones it is not given."""
    router = WeightedRouter({"legacy": 100, "holysheep": 0})
    router.set_weights(weights)
    assert router.weights() == expected


def test_set_weights_refuses_a_boolean() -> None:
    """True is not a weight, although Python counts it as 1."""
    router = WeightedRouter({"legacy": 100, "holysheep": 0})
    with pytest.raises(ConfigError) as info:
        router.set_weights({"holysheep": True})
    assert info.value.field == "weights.holysheep"
