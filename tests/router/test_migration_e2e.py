"""
Migration through AsyncClient on the loopback fakes: phases by a fake clock, rollback
after the threshold and only then, and set_weights under concurrency.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from router_helpers import two_providers

from holysheep_client import (
    MigrationConfig,
    MigrationPhase,
    RetryConfig,
    RollbackConfig,
)
from holysheep_client.testing import FakeClock, FakeServer, Fault
from shells import Shell

MSGS = [{"role": "user", "content": "translate: hello"}]


def migration(clock: FakeClock, min_requests: int = 20) -> MigrationConfig:
    return MigrationConfig(
        source="legacy",
        target="holysheep",
        started_at=clock.now() + timedelta(hours=1),
        phases=[
            MigrationPhase(name="canary", duration="24h", weight=5),
            MigrationPhase(name="rolling", duration="48h", weight=25),
            MigrationPhase(name="majority", duration="24h", weight=75),
            MigrationPhase(name="full", duration=0, weight=100),
        ],
        rollback=RollbackConfig(
            max_error_rate=0.2, min_requests=min_requests, window=300
        ),
    )


@pytest.mark.anyio
async def test_phases_move_traffic_by_the_clock(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """Each phase sends its share of keyed calls to the target, 0 before the start."""
    clock = FakeClock()
    cfg = two_providers(
        servers, holysheep_weight=0, legacy_weight=100, migration=migration(clock)
    )
    shares = []
    async with shell.client(cfg, clock=clock, rng=random.Random(1)) as client:
        for hours in (0, 2, 26, 74, 100):
            clock.set(cfg.migration.started_at + timedelta(hours=hours - 1))  # type: ignore[union-attr]
            served: Counter[str] = Counter()
            for i in range(200):
                r = await client.chat(messages=MSGS, model="m", route_key=f"u{i}")
                served[r.provider] += 1
            shares.append(served["holysheep"] / 200)
            status = client.health().migration
            assert status is not None
    assert shares[0] == 0 and shares[-1] == 1
    assert 0 < shares[1] < 0.15 and 0.15 < shares[2] < 0.35 and 0.65 < shares[3] < 0.85


@pytest.mark.anyio
async def test_rollback_after_the_threshold_and_only_then(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A failing target is rolled back once min_requests outcomes exceed the error rate."""
    clock = FakeClock()
    cfg = two_providers(
        servers,
        holysheep_weight=0,
        legacy_weight=100,
        migration=migration(clock, min_requests=20),
        retry=RetryConfig(max_attempts=1),
    )
    clock.set(cfg.migration.started_at + timedelta(hours=80))  # type: ignore[union-attr]
    servers["holysheep"].set_faults(
        [Fault("status", status=503, probability=0.5)], seed=3
    )
    async with shell.client(cfg, clock=clock, rng=random.Random(2)) as client:
        assert client.health().providers["holysheep"].weight == 75
        primary_target = 0
        i = 0
        while not client.health().providers["holysheep"].rolled_back:
            r = await client.chat(messages=MSGS, model="m", route_key=f"k{i}")
            i += 1
            primary_target += r.attempts > 1 or r.provider == "holysheep"
            if primary_target < 20:
                assert not client.health().providers["holysheep"].rolled_back
            assert i < 500
        health = client.health()
    assert primary_target >= 20
    assert health.providers["holysheep"].weight == 0
    assert health.migration is not None and health.migration.rolled_back
    assert health.migration.reason and "error rate" in health.migration.reason


def test_set_weights_is_safe_from_many_threads(servers: dict[str, FakeServer]) -> None:
    """Concurrent set_weights and draws from threads never see an invalid state."""
    from holysheep_client._routing.router import WeightedRouter

    router = WeightedRouter({"legacy": 100, "holysheep": 0}, rng=random.Random(0))
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(500):
                w = rng.choice([5, 25, 75, 100])
                router.set_weights({"legacy": 100 - w, "holysheep": w})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    def reader() -> None:
        try:
            for i in range(2000):
                weights = router.weights()
                assert weights["legacy"] + weights["holysheep"] == 100
                assert set(router.plan(f"k{i}")) == {"legacy", "holysheep"}
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
