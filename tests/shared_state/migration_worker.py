"""
A replica of the multi-process migration tests (run as ``python migration_worker.py``):
a client migrating legacy -> holysheep with its migration shared through Redis, over
in-process fakes, printing what it saw as JSON.

Roles: ``decider`` (its target starts failing after a second: it rolls back),
``obeyer`` (a healthy target; calls for the whole run) and ``late`` (started after the
rollback; its client is built, checked, then makes 20 calls).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from holysheep_client import (
    AsyncClient,
    Client,
    ClientConfig,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    RetryConfig,
    RollbackConfig,
    SharedStateConfig,
)
from holysheep_client.testing import DEFAULT_API_KEY, FakeProvider, Fault

MSGS = [{"role": "user", "content": "hi"}]


def config(url: str, started_at: float) -> ClientConfig:
    """Every replica's config: the same migration, canary at 50%, shared through Redis."""
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url=FakeProvider.url,
                protocol="openai",
                api_key=DEFAULT_API_KEY,
                weight=100,
            ),
            ProviderConfig(
                name="holysheep",
                base_url=FakeProvider.url,
                api_key=DEFAULT_API_KEY,
                weight=0,
            ),
        ],
        retry=RetryConfig(max_attempts=1),
        rate_limit=None,
        migration=MigrationConfig(
            source="legacy",
            target="holysheep",
            started_at=datetime.fromtimestamp(started_at, UTC),
            phases=[MigrationPhase(name="canary", duration=0, weight=50)],
            rollback=RollbackConfig(max_error_rate=0.2, min_requests=10, window=60),
        ),
        shared_state=SharedStateConfig(url=url, prefix="mp:", timeout=0.5),
    )


class Stamped(FakeProvider):
    """A fake that stamps each request's wall time (for 'the last call it got')."""

    def __init__(self, **kw: Any) -> None:
        self.stamps: list[float] = []

        def reply(body: Any) -> str:
            self.stamps.append(time.time())
            return "ok"

        super().__init__(reply=reply, **kw)


def rolled_back(client: AsyncClient | Client) -> bool:
    status = client.health().migration
    return status is not None and status.rolled_back


async def run_async(
    role: str, url: str, started_at: float, seconds: float
) -> dict[str, Any]:
    legacy, target = FakeProvider(reply="ok"), Stamped()
    transports = {
        "legacy": legacy.async_transport(),
        "holysheep": target.async_transport(),
    }
    client = AsyncClient(config(url, started_at), transports=transports)
    out: dict[str, Any] = {"role": role, "rolled_back_at_start": rolled_back(client)}
    begin = time.time()
    seen_at = None
    errors = 0
    calls = 0
    while time.time() - begin < seconds:
        if role == "decider" and time.time() - begin > 1.0 and not target.faults:
            target.set_faults([Fault("status", status=503)])
        try:
            await client.chat(messages=MSGS, model="m")
        except Exception:
            errors += 1
        calls += 1
        if seen_at is None and rolled_back(client):
            seen_at = time.time()
        await asyncio.sleep(0.005)
    await client.aclose()
    out.update(seen_at=seen_at, errors=errors, calls=calls, target=target.stamps)
    return out


def run_sync(role: str, url: str, started_at: float, seconds: float) -> dict[str, Any]:
    legacy, target = FakeProvider(reply="ok"), Stamped()
    transports = {
        "legacy": legacy.sync_transport(),
        "holysheep": target.sync_transport(),
    }
    client = Client(config(url, started_at), transports=transports)
    out: dict[str, Any] = {"role": role, "rolled_back_at_start": rolled_back(client)}
    begin = time.time()
    seen_at = None
    errors = 0
    calls = 0
    while (time.time() - begin < seconds) if role != "late" else calls < 20:
        try:
            client.chat(messages=MSGS, model="m")
        except Exception:
            errors += 1
        calls += 1
        if seen_at is None and rolled_back(client):
            seen_at = time.time()
        time.sleep(0.005)
    client.close()
    out.update(seen_at=seen_at, errors=errors, calls=calls, target=target.stamps)
    return out


if __name__ == "__main__":
    role, shell, url = sys.argv[1], sys.argv[2], sys.argv[3]
    started_at, seconds = float(sys.argv[4]), float(sys.argv[5])
    if shell == "async":
        result = asyncio.run(run_async(role, url, started_at, seconds))
    else:
        result = run_sync(role, url, started_at, seconds)
    print(json.dumps(result))
