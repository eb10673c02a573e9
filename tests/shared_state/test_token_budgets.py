"""
Token limits and budgets across processes, against a real redis-server: four
processes sharing one ``tokens_per_minute`` stay within 10% of it together, and a
budget spent in one process refuses the next call of another (async and sync).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis_server import RedisServer
from shared_helpers import PROVIDER, TEN_WORDS, client_config

from holysheep_client import AsyncClient
from holysheep_client._resilience.state import StackState
from holysheep_client.testing import FakeProvider

HELPERS = Path(__file__).with_name("shared_helpers.py")
PER_MINUTE, WORKERS, SECONDS, WARMUP = 30_000.0, 4, 8.0, 1.0
pytestmark = pytest.mark.anyio


def _drain(url: str) -> None:
    """Take the whole minute's bucket, so the run measures the rate, not the burst."""
    state = StackState(client_config(url, tokens_per_minute=PER_MINUTE))
    shared = state.providers[PROVIDER].shared_tokens
    assert shared is not None
    assert shared.reserve(PER_MINUTE, None) is not None, "Redis answered"


@pytest.mark.slow
def test_four_processes_share_one_token_rate(redis_server: RedisServer) -> None:
    """Flat out at a shared 30,000 tokens a minute, four processes use 500 a second."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(HELPERS), "tokens", redis_server.url, str(PER_MINUTE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    for p in procs:  # every worker has imported and built its client
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = time.time() + 0.3
    end = start + WARMUP + SECONDS
    _drain(redis_server.url)
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(f"{start} {end}\n")
        p.stdin.flush()
    used: list[tuple[float, int]] = []
    per_worker = []
    firsts = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        mine = [(float(t), int(n)) for t, n in json.loads(out)]
        assert mine, "every worker got calls through"
        per_worker.append(sum(n for _, n in mine))
        firsts.append(min(t for t, _ in mine))
        used += mine
    # A worker that starts late finds the credit refilled since the drain and takes
    # it at once: measure from a second after the last one's first answer.
    begin = max(firsts) + WARMUP
    assert end - begin >= SECONDS - 1, "a worker started far too late"
    window = [n for t, n in used if begin <= t < end]
    rate = sum(window) / (end - begin)
    print(
        f"aggregate {rate:.0f} tokens/s over {end - begin:.1f} s; per worker {per_worker}"
    )
    assert abs(rate - PER_MINUTE / 60) <= 0.1 * PER_MINUTE / 60, (rate, per_worker)


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_budget_spent_in_one_process_refuses_another(
    redis_server: RedisServer, kind: str
) -> None:
    """Two 0.01 USD calls spend acme's 0.015 here; the other process sends nothing."""
    fake = FakeProvider(reply=TEN_WORDS)
    config = client_config(redis_server.url, budget=0.015)
    async with AsyncClient(
        config, transports={PROVIDER: fake.async_transport()}
    ) as client:
        for _ in range(2):
            await client.chat(messages=[{"role": "user", "content": "hi"}], model="m",
                              tags={"tenant": "acme"})  # fmt: skip
    # Closing the client waited for its spend to reach Redis.
    out = subprocess.run(
        [sys.executable, str(HELPERS), "budget", redis_server.url, kind],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout) == {"outcome": "budget_exceeded", "requests": 0}
