"""
Migration progress with a gate, on a fake clock: a phase holds past its time while the
gate fails, advances once it passes, rolls back with on_fail="rollback", holds on too
few samples, and with shared state advances only once Redis confirms.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from holysheep_client import (
    GateConfig,
    MigrationConfig,
    MigrationPhase,
    RollbackConfig,
    ShadowConfig,
)
from holysheep_client._routing.gate import GateTotals
from holysheep_client._routing.progress_types import Progress
from holysheep_client._routing.router import WeightedRouter
from holysheep_client.testing import FakeClock

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = 3600.0


def migration(gate: GateConfig | None, **kw: object) -> MigrationConfig:
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
        "rollback": None,
        "gate": gate,
        "shadow": ShadowConfig(sample=1.0, comparator="json_fields"),
    }
    data.update(kw)
    return MigrationConfig(**data)  # type: ignore[arg-type]


GATE = GateConfig(min_agreement=0.9, max_error_rate=0.1, min_samples=10, window="2h")


def router(
    mig: MigrationConfig, clock: FakeClock, *, shared: bool = False
) -> WeightedRouter:
    clock.set(START - timedelta(hours=2))
    return WeightedRouter(
        {"legacy": 100, "holysheep": 0},
        migration=mig,
        clock=clock,
        rng=random.Random(1),
        shared=shared,
    )


def feed(r: WeightedRouter, n: int, *, agreement: float, ok: bool = True) -> None:
    for _ in range(n):
        r.record_target_outcome(
            ok, 0.2 if ok else None, cost=0.001, agreement=agreement
        )


def at(clock: FakeClock, hours: float) -> None:
    clock.set(START + timedelta(hours=hours))


def test_a_failing_gate_holds_the_phase_past_its_time() -> None:
    """With the gate failing at the end of canary, canary holds and health names agreement."""
    clock = FakeClock()
    r = router(migration(GATE), clock)
    at(clock, 23.5)
    feed(r, 20, agreement=0.5)
    r.tick()
    at(clock, 24.5)
    moves, _ = r.tick()
    assert [m.kind for m in moves] == ["held"]
    status = r.status()
    assert status is not None and status.phase == "canary"
    assert r.weights()["holysheep"] == 5
    assert status.held_since == START + timedelta(hours=24.5)
    assert status.gate is not None and status.gate.failing == ["min_agreement"]
    assert status.reason == "canary holds: agreement 0.50 below min_agreement 0.90"


def test_once_the_gate_passes_the_held_phase_advances_then_runs_its_duration() -> None:
    """A held phase ends when the gate passes; the next phase's time counts from then."""
    clock = FakeClock()
    r = router(migration(GATE.model_copy(update={"window": 3600.0})), clock)
    at(clock, 23.5)
    feed(r, 20, agreement=0.5)
    at(clock, 24)
    r.tick()
    at(clock, 26)  # the bad window has slid out; good answers come in
    feed(r, 20, agreement=1.0)
    moves, _ = r.tick()
    assert [(m.kind, m.phase, m.previous) for m in moves] == [
        ("advanced", "rolling", "canary")
    ]
    assert moves[0].held_for == pytest.approx(2 * HOUR)
    assert r.weights()["holysheep"] == 25
    status = r.status()
    assert status is not None and status.held_since is None
    at(clock, 26 + 47.5)
    feed(r, 20, agreement=1.0)
    r.tick()
    assert r.weights()["holysheep"] == 25
    at(clock, 26 + 48)
    r.tick()
    assert r.weights()["holysheep"] == 75


def test_a_passing_gate_ends_phases_on_the_clock() -> None:
    """With the gate passing, phases end exactly when their time is up, as without one."""
    clock = FakeClock()
    r = router(migration(GATE.model_copy(update={"window": 1e6})), clock)
    feed(r, 20, agreement=1.0)
    for hours, weight in [(23.9, 5), (24, 25), (71.9, 25), (72, 75), (96, 100)]:
        at(clock, hours)
        r.tick()
        assert r.weights()["holysheep"] == weight, hours


@pytest.mark.parametrize(
    ("samples", "rolled_back"),
    [pytest.param(20, True, id="enough-samples"), pytest.param(5, False, id="too-few")],
)
def test_on_fail_rollback(samples: int, rolled_back: bool) -> None:
    """With on_fail="rollback" a failing gate sends the target to 0; too few samples hold."""
    clock = FakeClock()
    gate = GATE.model_copy(update={"on_fail": "rollback"})
    r = router(migration(gate), clock)
    at(clock, 23)
    feed(r, samples, agreement=0.4)
    at(clock, 24)
    moves, _ = r.tick()
    status = r.status()
    assert status is not None
    assert status.rolled_back is rolled_back
    if rolled_back:
        assert r.weights()["holysheep"] == 0
        assert [m.kind for m in moves] == ["rolled_back"]
        assert status.reason is not None and "min_agreement" in status.reason
        assert not r.shadowing()
    else:
        assert r.weights()["holysheep"] == 5
        assert status.gate is not None and "min_samples" in status.gate.failing


def test_the_rollback_rule_still_acts_at_once() -> None:
    """RollbackConfig's error-rate rule rolls back mid-phase, gate or not."""
    clock = FakeClock()
    mig = migration(GATE, rollback=RollbackConfig(max_error_rate=0.2, min_requests=10))
    r = router(mig, clock)
    at(clock, 1)
    reasons = [r.record_target_outcome(False) for _ in range(10)]
    assert reasons[-1] is not None and "error rate" in reasons[-1]
    assert r.weights()["holysheep"] == 0


def test_set_weights_overrides_everything() -> None:
    """set_weights pauses the clock and the gate, clears a hold and stops shadow calls."""
    clock = FakeClock()
    r = router(migration(GATE), clock)
    at(clock, 30)
    r.tick()
    assert r.shadowing()
    r.set_weights({"legacy": 50, "holysheep": 50})
    at(clock, 300)
    assert r.tick() == ([], None)
    assert r.weights() == {"legacy": 50, "holysheep": 50}
    assert not r.shadowing()
    status = r.status()
    assert status is not None and status.held_since is None and status.phase is None


@pytest.mark.parametrize(
    ("hours", "shadowing"),
    [
        pytest.param(-1, False, id="before-start"),
        pytest.param(1, True, id="dark-launch"),
        pytest.param(3, True, id="canary"),
        pytest.param(5, False, id="full"),
    ],
)
def test_shadow_calls_only_while_a_phase_is_active_below_100(
    hours: float, shadowing: bool
) -> None:
    """Shadowing is on from the first phase (weight 0 included) until the weight is 100."""
    clock = FakeClock()
    mig = migration(
        None,
        phases=[
            MigrationPhase(name="dark", duration="2h", weight=0),
            MigrationPhase(name="canary", duration="2h", weight=5),
            MigrationPhase(name="full", duration=0, weight=100),
        ],
    )
    r = router(mig, clock)
    at(clock, hours)
    assert r.shadowing() is shadowing


def test_a_dark_launch_draws_nothing_for_the_target() -> None:
    """A phase of weight 0 is valid: the target is never the primary of a draw."""
    clock = FakeClock()
    mig = migration(None, phases=[MigrationPhase(name="dark", duration=0, weight=0)])
    r = router(mig, clock)
    at(clock, 1)
    assert all(r.plan(f"k{i}")[0] == "legacy" for i in range(200))
    status = r.status()
    assert status is not None and status.phase == "dark" and status.target_weight == 0


def shared_reply(state: Progress, **fields: float) -> tuple[Progress, GateTotals]:
    return state, GateTotals.from_fields(fields.items())


def test_shared_progress_advances_only_once_redis_confirms() -> None:
    """With shared state, a passing gate proposes the advance; it applies on Redis's reply."""
    clock = FakeClock()
    r = router(migration(GATE), clock, shared=True)
    _, job = r.tick()
    assert job is not None and job.proposal is None
    start = START.timestamp()
    r.synced(job, shared_reply(Progress(0, start, version=3)))
    feed(r, 20, agreement=1.0)
    at(clock, 25)
    _, job = r.tick()
    assert r.weights()["holysheep"] == 5  # not before Redis says so
    assert job is not None and job.proposal is not None
    assert (job.proposal.kind, job.proposal.expected) == ("advance", 3)
    assert job.deltas.samples == 20
    assert r.status().reason is not None  # type: ignore[union-attr]
    moves = r.synced(
        job,
        shared_reply(
            Progress(1, start + 24 * HOUR, version=4), n=20, an=20, **{"as": 20.0}
        ),
    )
    assert [m.kind for m in moves] == ["advanced"]
    assert r.weights()["holysheep"] == 25


def test_shared_progress_never_advances_while_redis_is_unreachable() -> None:
    """While Redis does not answer, the last known phase stays, however long it lasts."""
    clock = FakeClock()
    r = router(migration(GATE), clock, shared=True)
    _, job = r.tick()
    assert job is not None
    r.synced(job, shared_reply(Progress(0, START.timestamp(), version=1)))
    feed(r, 20, agreement=1.0)
    for hours in (25, 50, 100, 200):
        at(clock, hours)
        _, job = r.tick()
        if job is not None:
            r.synced(job, None)
        assert r.weights()["holysheep"] == 5
    status = r.status()
    assert status is not None and status.reason is not None
    assert "shared state" in status.reason


def test_a_rollback_seen_in_the_shared_state_is_obeyed() -> None:
    """A rollback another replica wrote is adopted at the next sync: weight 0, reported."""
    clock = FakeClock()
    r = router(migration(GATE), clock, shared=True)
    at(clock, 2)
    _, job = r.tick()
    assert job is not None
    moves = r.synced(
        job,
        shared_reply(Progress(0, START.timestamp(), None, "gate failed", version=2)),
    )
    assert [m.kind for m in moves] == ["rolled_back"]
    assert r.weights()["holysheep"] == 0


def test_a_local_rollback_is_proposed_and_kept_until_confirmed() -> None:
    """A rollback decided here applies at once and stays until Redis has it."""
    clock = FakeClock()
    mig = migration(GATE, rollback=RollbackConfig(max_error_rate=0.2, min_requests=5))
    r = router(mig, clock, shared=True)
    at(clock, 2)
    _, job = r.tick()
    assert job is not None
    for _ in range(5):
        r.record_target_outcome(False)
    assert r.weights()["holysheep"] == 0
    # A reply to a job sent before the rollback does not undo it.
    r.synced(job, shared_reply(Progress(0, START.timestamp(), version=1)))
    assert r.weights()["holysheep"] == 0
    clock.advance(1)
    _, job = r.tick()
    assert job is not None and job.proposal is not None
    assert job.proposal.kind == "rollback"


def test_a_replica_puts_back_what_redis_lost() -> None:
    """When Redis comes back empty and a newer replica wrote the first phase, a replica
    that knew a later phase keeps it and proposes it again."""
    clock = FakeClock()
    r = router(migration(None), clock, shared=True)
    at(clock, 30)
    _, job = r.tick()
    assert job is not None
    start = START.timestamp()
    r.synced(job, shared_reply(Progress(1, start + 24 * HOUR, version=5)))
    assert r.weights()["holysheep"] == 25
    clock.advance(1)
    _, job = r.tick()
    assert job is not None
    r.synced(job, shared_reply(Progress(0, start, version=0)))  # Redis restarted empty
    assert r.weights()["holysheep"] == 25
    clock.advance(1)
    _, job = r.tick()
    assert job is not None and job.proposal is not None
    assert (job.proposal.kind, job.proposal.expected, job.proposal.state.phase) == (
        "advance",
        0,
        1,
    )
