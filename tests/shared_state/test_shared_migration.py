"""
One migration state for every replica, against a real redis-server: a rollback decided
in one of three processes is obeyed by the others within a second, a process started
afterwards starts rolled back, and with Redis killed mid-run no call is lost and no
phase advances.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis_server import RedisServer

from holysheep_client import (
    ClientConfig,
    GateConfig,
    HolySheepError,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RetryConfig,
    ShadowConfig,
    SharedStateConfig,
)
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client.testing import DEFAULT_API_KEY, FakeProvider
from shells import Shell

WORKER = Path(__file__).with_name("migration_worker.py")


def worker(
    role: str, shell: str, url: str, started_at: float, seconds: float
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), role, shell, url, str(started_at), str(seconds)],
        stdout=subprocess.PIPE,
    )


def result(p: subprocess.Popen[bytes]) -> dict[str, object]:
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0
    data: dict[str, object] = json.loads(out)
    return data


@pytest.mark.slow
def test_a_rollback_in_one_process_is_obeyed_by_the_others(
    redis_server: RedisServer,
) -> None:
    """Three processes: one rolls back, the other two stop sending to the target within
    a second, and a process started afterwards starts rolled back."""
    started_at = time.time()
    procs = [
        worker("decider", "async", redis_server.url, started_at, 3.0),
        worker("obeyer", "async", redis_server.url, started_at, 3.0),
        worker("obeyer", "sync", redis_server.url, started_at, 3.0),
    ]
    decider, *obeyers = [result(p) for p in procs]
    late = result(worker("late", "sync", redis_server.url, started_at, 0))
    decided = decider["seen_at"]
    assert isinstance(decided, float)
    lags = []
    for o in obeyers:
        assert o["errors"] == 0
        stamps = o["target"]
        assert isinstance(stamps, list) and stamps  # it did send to the target before
        last = max(stamps)
        seen = o["seen_at"]
        assert isinstance(seen, float)
        lags.append((round(seen - decided, 3), round(last - decided, 3)))
        assert seen - decided < 1.0
        assert last - decided < 1.0
    print(
        f"obeyers: (saw the rollback, last call to the target) after the decision: {lags}"
    )
    assert late["rolled_back_at_start"] is True
    assert late["target"] == [] and late["errors"] == 0


def gated(url: str, legacy: FakeProvider, target: FakeProvider) -> ClientConfig:
    """A canary of 0.6 s whose gate passes, shared through Redis."""
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy", base_url=legacy.url, protocol="openai",
                api_key=DEFAULT_API_KEY, weight=100,
            ),
            ProviderConfig(
                name="holysheep", base_url=target.url, api_key=DEFAULT_API_KEY, weight=0
            ),
        ],
        retry=RetryConfig(max_attempts=1),
        rate_limit=None,
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=SYSTEM_CLOCK.now() + timedelta(seconds=0.05),
            phases=[
                MigrationPhase(name="canary", duration=0.6, weight=20),
                MigrationPhase(name="full", duration=0, weight=100),
            ],
            rollback=None,
            gate=GateConfig(min_agreement=0.9, min_samples=5, window=5.0),
            shadow=ShadowConfig(sample=1.0),
        ),
        shared_state=SharedStateConfig(url=url, prefix="kill-mig:", timeout=0.5),
    )  # fmt: skip


@pytest.mark.anyio
@pytest.mark.slow
async def test_with_redis_killed_no_call_is_lost_and_no_phase_advances(
    redis_server: RedisServer, shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis dies before the canary ends: calls go on, the canary holds until Redis is back."""
    legacy, target = FakeProvider(reply="same"), FakeProvider(reply="same")
    config = gated(redis_server.url, legacy, target)
    errors: list[BaseException] = []
    phases: list[tuple[float, str | None]] = []
    calls = 0
    async with shell.client(
        config, fakes={"legacy": legacy, "holysheep": target}
    ) as client:
        store = client.raw._state.shared
        assert store is not None
        store.retry_interval = 0.1
        t0 = time.monotonic()

        async def caller() -> None:
            nonlocal calls
            while time.monotonic() - t0 < 2.4:
                try:
                    await client.chat(
                        messages=[{"role": "user", "content": "hi"}], model="m"
                    )
                except HolySheepError as exc:
                    errors.append(exc)
                calls += 1
                status = client.health().migration
                phases.append((time.monotonic() - t0, status.phase if status else None))
                await asyncio.sleep(0.005)

        async def killer() -> None:
            await asyncio.sleep(0.3)
            redis_server.kill()
            await asyncio.sleep(1.2)
            redis_server.start()

        with caplog.at_level(logging.WARNING, logger="holysheep_client"):
            await asyncio.gather(killer(), *(caller() for _ in range(4)))
        final = client.health().migration
    assert errors == [] and calls > 50
    down = [phase for t, phase in phases if 0.35 < t < 1.5]
    assert down and set(down) == {"canary"}  # the canary's time ran out at 0.65 s
    assert final is not None and final.phase == "full"  # once Redis was back
    warnings = [
        r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()
    ]
    assert len(warnings) == 1 and "no phase advances" in warnings[0]
    first_full = min(t for t, phase in phases if phase == "full")
    print(
        f"{shell}: {calls} calls, 0 errors; canary held while Redis was down;"
        f" full at {first_full:.2f} s (Redis back at 1.5 s)"
    )
