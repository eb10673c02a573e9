"""
The migration gate end to end, on the two loopback fakes with a real clock and short
phases, on both clients: a disagreeing target holds the canary (health names
agreement), a fixed one advances, on_fail="rollback" sends it to 0, and shadow calls
stay off the callers' path, their budget and their costs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import pytest
from router_helpers import two_providers

from holysheep_client import (
    ClientConfig,
    GateConfig,
    HolySheepError,
    MigrationConfig,
    MigrationPhase,
    ShadowConfig,
)
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client.testing import FakeServer, Fault
from shells import Shell, ShellClient

MSGS = [{"role": "user", "content": 'Classify as JSON {"label", "flag"}: "Great fit."'}]
RIGHT = '{"label": "positive", "flag": false}'
WRONG = '{"label": "negative", "flag": false}'
CANARY = 0.5  # seconds


def gated(
    servers: dict[str, FakeServer],
    *,
    on_fail: str = "hold",
    window: float = 10.0,
    phases: list[MigrationPhase] | None = None,
    gate: GateConfig | None = None,
    **shadow: Any,
) -> ClientConfig:
    """legacy -> holysheep from now: canary (10%) for CANARY seconds, then full."""
    shadow.setdefault("sample", 1.0)
    shadow.setdefault("comparator", "json_fields")
    migration = MigrationConfig(
        source="legacy",
        target="holysheep",
        # Begun already: a call made before the start would not be shadowed, and a
        # client built in a few milliseconds makes its first call within any margin.
        started_at=SYSTEM_CLOCK.now(),
        phases=phases
        or [
            MigrationPhase(name="canary", duration=CANARY, weight=10),
            MigrationPhase(name="full", duration=0, weight=100),
        ],
        rollback=None,
        gate=gate
        or GateConfig(
            min_agreement=0.9, min_samples=10, window=window, on_fail=on_fail
        ),
        shadow=ShadowConfig(**shadow),
    )
    return two_providers(
        servers, holysheep_weight=0, legacy_weight=100, migration=migration
    )


async def drive(
    client: ShellClient, seconds: float, *, callers: int = 4
) -> list[BaseException]:
    """Call flat out from ``callers`` callers for ``seconds``; the errors they saw."""
    errors: list[BaseException] = []
    end = time.monotonic() + seconds

    async def caller(i: int) -> None:
        n = 0
        while time.monotonic() < end:
            try:
                await client.chat(messages=MSGS, model="big", route_key=f"u{i}-{n}")
            except HolySheepError as exc:
                errors.append(exc)
            n += 1
            await asyncio.sleep(0.005)

    await asyncio.gather(*(caller(i) for i in range(callers)))
    return errors


async def until(client: ShellClient, phase: str, timeout: float) -> bool:
    """Drive calls until the migration reaches ``phase``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        await drive(client, 0.1)
        status = client.health().migration
        if status is not None and status.phase == phase:
            return True
    return False


@pytest.mark.anyio
async def test_a_disagreeing_target_holds_the_canary(
    servers: dict[str, FakeServer], shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """The canary holds past its time; health names agreement; callers see nothing."""
    caplog.set_level(logging.WARNING, logger="holysheep_client")
    servers["legacy"].configure(reply=RIGHT)
    servers["holysheep"].configure(reply=WRONG)
    async with shell.client(gated(servers), rng=random.Random(1)) as client:
        errors = await drive(client, CANARY * 3)
        status = client.health().migration
    assert errors == []
    assert status is not None and status.phase == "canary"
    assert status.held_since is not None
    assert status.gate is not None and status.gate.failing == ["min_agreement"]
    assert status.gate.agreement == pytest.approx(0.5)
    assert status.reason is not None and "min_agreement" in status.reason
    holds = [r for r in caplog.records if "holds" in r.getMessage()]
    assert len(holds) == 1 and "min_agreement" in holds[0].getMessage()


@pytest.mark.anyio
async def test_a_fixed_target_advances(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """Once the target answers like the source, the window passes and the phase ends."""
    servers["legacy"].configure(reply=RIGHT)
    servers["holysheep"].configure(reply=WRONG)
    async with shell.client(gated(servers, window=1.0), rng=random.Random(2)) as client:
        assert await drive(client, CANARY * 2) == []
        status = client.health().migration
        assert status is not None and status.phase == "canary" and status.held_since
        servers["holysheep"].configure(reply=RIGHT)
        assert await until(client, "full", timeout=6.0)
        status = client.health().migration
    assert status is not None and status.held_since is None
    assert status.gate is not None and status.gate.passing
    assert status.target_weight == 100


@pytest.mark.anyio
async def test_on_fail_rollback_sends_the_target_to_zero(
    servers: dict[str, FakeServer], shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """With on_fail="rollback", a failing gate at the canary's end rolls the target back."""
    caplog.set_level(logging.WARNING, logger="holysheep_client")
    servers["legacy"].configure(reply=RIGHT)
    servers["holysheep"].configure(reply=WRONG)
    config = gated(servers, on_fail="rollback")
    async with shell.client(config, rng=random.Random(3)) as client:
        assert await drive(client, CANARY * 2.5) == []
        health = client.health()
        served = servers["holysheep"].stats()["requests"]
        assert await drive(client, 0.3) == []
        after = servers["holysheep"].stats()["requests"]
    assert health.migration is not None and health.migration.rolled_back
    assert health.providers["holysheep"].weight == 0
    assert "min_agreement" in (health.migration.reason or "")
    assert after == served  # no primary draws, no shadow calls once rolled back
    warnings = [
        r.getMessage() for r in caplog.records if "rolled back" in r.getMessage()
    ]
    assert len(warnings) == 1 and "min_agreement" in warnings[0]


@pytest.mark.anyio
async def test_shadow_calls_stay_off_the_callers_budget_and_costs(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """In a dark launch against a failing target, callers see legacy only, at legacy's
    cost; shadow failures are counted apart, sent once each, and spend no retry."""
    servers["holysheep"].set_faults([Fault("status", status=503)])
    config = gated(
        servers,
        phases=[MigrationPhase(name="dark", duration=0, weight=0)],
        gate=GateConfig(max_error_rate=0.5, min_samples=5),
    )
    async with shell.client(config, rng=random.Random(4)) as client:
        answers = [await client.chat(messages=MSGS, model="big") for _ in range(20)]
        await asyncio.sleep(0.3)  # the last shadow calls land
        health = client.health()
        budget = client.raw._state.budget
        calls, retries = budget.calls, budget.retries
    assert {r.provider for r in answers} == {"legacy"}
    assert all(r.attempts == 1 for r in answers)
    mig = health.migration
    assert mig is not None and mig.shadow is not None
    assert mig.shadow.sent == 20 and mig.shadow.failed == 20
    assert mig.gate is not None and mig.gate.error_rate == 1.0
    assert "max_error_rate" in mig.gate.failing
    assert health.providers["holysheep"].requests == 0
    assert health.providers["holysheep"].cost_usd == 0
    assert (calls, retries) == (20, 0)
    assert servers["holysheep"].stats()["requests"] == 20  # one attempt each


@pytest.mark.anyio
async def test_shadow_cost_is_counted_apart(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A shadow answer's cost shows in health().migration.shadow only."""
    config = gated(servers, phases=[MigrationPhase(name="dark", duration=0, weight=0)])
    async with shell.client(config, rng=random.Random(5)) as client:
        answers = [await client.chat(messages=MSGS, model="gpt-4.1") for _ in range(10)]
        await asyncio.sleep(0.3)
        health = client.health()
    caller_cost = sum(r.cost_usd or 0.0 for r in answers)
    assert health.providers["legacy"].cost_usd == pytest.approx(caller_cost)
    assert health.providers["holysheep"].cost_usd == 0
    mig = health.migration
    assert mig is not None and mig.shadow is not None
    assert mig.shadow.sent == 10 and mig.shadow.cost_usd > 0


@pytest.mark.anyio
async def test_a_slow_target_never_slows_the_callers(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """With a 1 s target and sample=1.0, callers answer at legacy's pace and shadow
    calls never exceed max_in_flight."""
    # The previous shell's shadow calls, abandoned when its client closed, may still
    # be sleeping on the server: let them end so they are not counted as this run's.
    for _ in range(60):
        if servers["holysheep"].stats()["in_flight"] == 0:
            break
        await asyncio.sleep(0.05)
    assert servers["holysheep"].stats()["in_flight"] == 0
    servers["holysheep"].reset()
    servers["holysheep"].configure(latency=1.0)
    config = gated(
        servers,
        phases=[MigrationPhase(name="dark", duration=0, weight=0)],
        max_in_flight=3,
    )
    async with shell.client(config, rng=random.Random(6)) as client:
        t0 = time.monotonic()
        outs = [await client.timed_chat(messages=MSGS, model="big") for _ in range(15)]
        elapsed = time.monotonic() - t0
        shadow = client.health().migration.shadow  # type: ignore[union-attr]
    assert all(not isinstance(r, BaseException) for r, _ in outs)
    assert max(seconds for _, seconds in outs) < 0.5
    assert elapsed < 2.0
    assert servers["holysheep"].stats()["max_in_flight"] <= 3
    assert shadow is not None and shadow.skipped > 0


def broken(source: Any, target: Any) -> float:
    raise RuntimeError("comparator bug")


@pytest.mark.anyio
async def test_a_raising_comparator_never_reaches_a_caller(
    servers: dict[str, FakeServer], shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    """A comparator that raises scores 0 for every shadow answer; callers see nothing."""
    caplog.set_level(logging.WARNING, logger="holysheep_client")
    config = gated(
        servers,
        phases=[MigrationPhase(name="dark", duration=0, weight=0)],
        comparator=broken,
    )
    async with shell.client(config, rng=random.Random(7)) as client:
        answers = [await client.chat(messages=MSGS, model="big") for _ in range(10)]
        await asyncio.sleep(0.3)
        status = client.health().migration
    assert len(answers) == 10
    assert status is not None and status.gate is not None
    assert status.gate.agreement == 0.0 and "min_agreement" in status.gate.failing
    logged = [r for r in caplog.records if "comparator" in r.getMessage()]
    assert len(logged) == 1 and "comparator bug" not in logged[0].getMessage()


@pytest.mark.anyio
async def test_a_call_kept_from_the_target_is_not_shadowed(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A call limited to other providers (providers=) never reaches the target."""
    config = gated(servers, phases=[MigrationPhase(name="dark", duration=0, weight=0)])
    async with shell.client(config, rng=random.Random(8)) as client:
        for _ in range(5):
            await client.chat(messages=MSGS, model="big", providers=["legacy"])
        await client.chat(messages=MSGS, model="big")
        await asyncio.sleep(0.3)
        shadow = client.health().migration.shadow  # type: ignore[union-attr]
    assert shadow is not None and shadow.sent == 1
    assert servers["holysheep"].stats()["requests"] == 1


@pytest.mark.anyio
async def test_a_streamed_call_is_shadowed_as_a_plain_call(
    servers: dict[str, FakeServer], shell: Shell
) -> None:
    """A stream the source served is sent again to the target, not streamed, and compared."""
    servers["legacy"].configure(reply=RIGHT)
    servers["holysheep"].configure(reply=RIGHT)
    config = gated(servers, phases=[MigrationPhase(name="dark", duration=0, weight=0)])
    async with shell.client(config, rng=random.Random(9)) as client:
        result = await client.stream(messages=MSGS, model="big")
        await asyncio.sleep(0.3)
        status = client.health().migration
    assert result.error is None and result.final is not None
    assert status is not None and status.shadow is not None and status.shadow.sent == 1
    assert status.gate is not None and status.gate.agreement == 1.0
    (request,) = servers["holysheep"].requests()
    assert request.stream is False
