"""
Canary migration: move traffic from a legacy vendor to holysheep in timed phases.

The runbook's phases (24 h canary at 5%, 48 h rolling at 25%, 24 h majority at 75%,
then full) run on a `FakeClock` moved a day at a time, so the example takes a moment;
calls with sticky route keys see the target's share grow, and `health()` reports
the phase, the weights, and each provider's counters.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from holysheep_client import (
    AsyncClient,
    ClientConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RollbackConfig,
)
from holysheep_client.testing import FakeClock, FakeProvider


async def main() -> None:
    clock = FakeClock()
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://legacy.localhost/v1",
                protocol="openai",
                api_key="k",
                weight=100,
                models={"default": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://holysheep.localhost/v1",
                api_key="k",
                weight=0,
                models={"default": "deepseek-v3.2"},
            ),
        ],
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=clock.now(),
            phases=[
                MigrationPhase(name="canary", duration="24h", weight=5),
                MigrationPhase(name="rolling", duration="48h", weight=25),
                MigrationPhase(name="majority", duration="24h", weight=75),
                MigrationPhase(name="full", duration=0, weight=100),
            ],
            rollback=RollbackConfig(max_error_rate=0.05, min_requests=50, window=300),
        ),
    )
    transports = {
        "legacy": FakeProvider(api_key="k").async_transport(),
        "holysheep": FakeProvider(api_key="k").async_transport(),
    }
    async with AsyncClient(config, clock=clock, transports=transports) as client:
        for hours in (24, 48, 24, 0):
            status = client.health().migration
            served: Counter[str] = Counter()
            for user in range(200):
                r = await client.chat(
                    messages=[{"role": "user", "content": "Hi"}],
                    model="default",
                    route_key=f"user-{user}",  # the same user stays on one side
                )
                served[r.provider] += 1
            assert status is not None
            print(
                f"{status.phase:<9} target weight {status.target_weight:>5.1f}:"
                f" legacy {served['legacy']:>3}, holysheep {served['holysheep']:>3}"
            )
            clock.advance(hours * 3600)
        for name, p in client.health().providers.items():
            print(
                f"{name}: weight {p.weight:.0f}, {p.requests} calls, {p.errors} errors"
            )


if __name__ == "__main__":
    asyncio.run(main())
