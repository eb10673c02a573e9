"""
One outage, one warning: a reply to a command sent before Redis went away does not
count as Redis being back (on both clients' paths). The redis client is replaced by
a scripted one, so the race is played exactly, in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
import redis

from holysheep_client import SharedStateConfig
from holysheep_client._resilience.shared.store import Script, SharedStore
from holysheep_client.testing import FakeClock

SCRIPT = Script("return 1")
URL = "redis://127.0.0.1:6399/0"


class _Pool:
    def disconnect(self, inuse_connections: bool = True) -> None:
        pass


class _AsyncPool:
    async def disconnect(self, inuse_connections: bool = True) -> None:
        pass


class AsyncScripted:
    """Each evalsha takes the next step: ``"ok"``, ``"fail"`` or an event to wait on."""

    def __init__(self, steps: list[Any]) -> None:
        self.steps = steps
        self.connection_pool = _AsyncPool()

    async def evalsha(self, *args: Any) -> int:
        step = self.steps.pop(0)
        if isinstance(step, asyncio.Event):
            await step.wait()
            return 1
        if step == "fail":
            raise redis.ConnectionError("connection refused")
        return 1


class SyncScripted:
    def __init__(self, steps: list[Any]) -> None:
        self.steps = steps
        self.lock = threading.Lock()
        self.sent = threading.Event()  # a waiting step has been taken
        self.connection_pool = _Pool()

    def evalsha(self, *args: Any) -> int:
        with self.lock:
            step = self.steps.pop(0)
        if isinstance(step, threading.Event):
            self.sent.set()
            assert step.wait(5)
            return 1
        if step == "fail":
            raise redis.ConnectionError("connection refused")
        return 1


def store(clock: FakeClock) -> SharedStore:
    return SharedStore(SharedStateConfig(url=URL), clock=clock, retry_interval=1.0)


def unreachable(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]


@pytest.mark.anyio
async def test_an_old_reply_does_not_end_the_outage_async(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    s = store(clock)
    answered = asyncio.Event()
    s._async_client = lambda: scripted  # type: ignore[method-assign]
    scripted = AsyncScripted([answered, "fail", "fail", "ok"])
    with caplog.at_level(logging.INFO, logger="holysheep_client"):
        early = asyncio.ensure_future(s.run_async(SCRIPT, [], []))
        await asyncio.sleep(0)  # sent before Redis went away
        assert await s.run_async(SCRIPT, [], []) is None  # the outage is seen
        answered.set()
        assert await early == 1  # its reply arrives after that
        assert s.down  # and says nothing of now
        assert await s.run_async(SCRIPT, [], []) is None  # skipped: not time yet
        clock.advance(1.0)
        assert await s.run_async(SCRIPT, [], []) is None  # the retry fails
        assert s.down
        clock.advance(1.0)
        assert await s.run_async(SCRIPT, [], []) == 1  # Redis is back
    assert not s.down
    assert len(unreachable(caplog)) == 1
    assert [r.getMessage() for r in caplog.records].count(
        f"shared state at {s.where} answers again"
    ) == 1


def test_an_old_reply_does_not_end_the_outage_sync(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    s = store(clock)
    answered = threading.Event()
    scripted = SyncScripted([answered, "fail", "ok"])
    s._sync_client = lambda: scripted  # type: ignore[method-assign]
    replies: list[Any] = []
    with caplog.at_level(logging.INFO, logger="holysheep_client"):
        early = threading.Thread(target=lambda: replies.append(s.run(SCRIPT, [], [])))
        early.start()
        assert scripted.sent.wait(5)  # the early command is on the wire
        assert s.run(SCRIPT, [], []) is None
        answered.set()
        early.join(5)
        assert replies == [1] and s.down
        clock.advance(1.0)
        assert s.run(SCRIPT, [], []) == 1
    assert not s.down
    assert len(unreachable(caplog)) == 1
