"""
The shared breaker keeps pybreaker's semantics across stacks that share nothing but
Redis (two `StackState`s stand for two processes).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from redis_server import RedisServer
from shared_helpers import fake_stack, make_config, send

from holysheep_client import CircuitOpenError, ConfigError
from holysheep_client._resilience.stack import build_transport_stack
from holysheep_client._resilience.state import StackState
from holysheep_client.testing import FakeProvider, Fault


async def settle(*states: StackState) -> None:
    """Let background verdicts land, then outlive the 5 ms closed-state cache."""
    for state in states:
        assert state.shared is not None
        await state.shared.flush()
    await asyncio.sleep(0.01)


def _failing() -> FakeProvider:
    return FakeProvider(faults=[Fault("status", status=503)])


@pytest.mark.anyio
async def test_fail_max_failures_from_two_processes_open_it(
    redis_server: RedisServer,
) -> None:
    """Consecutive failures count across processes; fail_max of them opens the breaker for both."""
    cfg = make_config(redis_server.url, fail_max=4)
    a, sa = fake_stack(cfg, _failing())
    b, sb = fake_stack(cfg, _failing())
    for stack in (a, b, a, b):
        assert await send(stack) == 503
        await settle(sa, sb)
    for stack in (a, b):
        with pytest.raises(CircuitOpenError):
            await send(stack)
    await a.aclose()
    await b.aclose()


@pytest.mark.anyio
async def test_a_success_elsewhere_resets_the_count(redis_server: RedisServer) -> None:
    """A success in another process resets the consecutive-failure count, as in pybreaker."""
    cfg = make_config(redis_server.url, fail_max=3)
    bad, sbad = fake_stack(cfg, _failing())
    good, sgood = fake_stack(cfg, FakeProvider())
    for stack in (bad, bad, good, bad, bad):
        await send(stack)
        await settle(sbad, sgood)
    assert await send(good) == 200  # 2 failures since the reset: still closed
    await bad.aclose()
    await good.aclose()


@pytest.mark.anyio
async def test_after_reset_timeout_one_probe_closes_or_reopens(
    redis_server: RedisServer,
) -> None:
    """After reset_timeout exactly one call is the probe; its success closes the breaker for all."""
    cfg = make_config(redis_server.url, fail_max=1, reset_timeout=0.2)
    fake = _failing()
    a, sa = fake_stack(cfg, fake)
    b, sb = fake_stack(cfg, FakeProvider())
    assert await send(a) == 503
    await settle(sa, sb)
    with pytest.raises(CircuitOpenError):
        await send(b)
    await asyncio.sleep(0.25)
    assert await send(a) == 503  # the probe fails: open again
    await settle(sa, sb)
    with pytest.raises(CircuitOpenError):
        await send(b)
    await asyncio.sleep(0.25)
    fake.set_faults([])
    results = await asyncio.gather(send(a), send(b), return_exceptions=True)
    assert sorted(map(type, results), key=str) == sorted(
        [int, CircuitOpenError], key=str
    )  # one probe, the other refused
    await settle(sa, sb)
    assert await send(b) == 200
    await a.aclose()
    await b.aclose()


@pytest.mark.anyio
async def test_client_errors_and_429_do_not_count(redis_server: RedisServer) -> None:
    """4xx answers are the caller's fault and 429 is no verdict: the shared breaker stays closed."""
    fake = FakeProvider(faults=[Fault("status", status=429, times=1), Fault("bad_key")])
    stack, _ = fake_stack(make_config(redis_server.url, fail_max=1), fake)
    assert await send(stack) == 429
    for _ in range(3):
        assert await send(stack) == 401
    await stack.aclose()
    client = redis_server.client()
    try:
        assert client.hget("t:breaker:p", "s") in (None, b"0")
    finally:
        client.close()


def test_the_sync_stack_shares_the_same_breaker(redis_server: RedisServer) -> None:
    """A sync stack (blocking client) opens the shared breaker an async stack then honours."""
    from shared_helpers import PROVIDER, request

    cfg = make_config(redis_server.url, fail_max=2)
    state = StackState(cfg)
    sync = build_transport_stack(
        cfg, PROVIDER, state=state, sync=True, inner=_failing().sync_transport()
    )
    for _ in range(2):
        response = sync.handle_request(request())
        response.read()
        response.close()
        assert response.status_code == 503
    with pytest.raises(CircuitOpenError):
        sync.handle_request(request())
    sync.close()

    async def other() -> None:
        stack, _ = fake_stack(cfg, FakeProvider())
        with pytest.raises(CircuitOpenError):
            await send(stack)
        await stack.aclose()

    asyncio.run(other())


@pytest.mark.anyio
async def test_a_slow_redis_falls_back_after_the_timeout(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A stopped (unresponsive) Redis costs one timeout, then calls go on with local state."""
    import signal

    stack, state = fake_stack(make_config(redis_server.url, rate=1000), FakeProvider())
    assert await send(stack) == 200
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(20):
            assert await send(stack) == 200
        assert loop.time() - t0 < 1.0
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    assert state.shared is not None and state.shared.down
    assert [r.levelname for r in caplog.records].count("WARNING") == 1
    await stack.aclose()


def test_the_password_never_reaches_logs_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unreachable Redis with a password in its URL: the warning and reprs leave it out."""
    from redis_server import free_port

    url = f"redis://user:hunter2-secret@127.0.0.1:{free_port()}/0"

    async def run() -> None:
        stack, state = fake_stack(make_config(url, rate=100), FakeProvider())
        assert await send(stack) == 200
        assert "hunter2" not in repr(state.shared)
        await stack.aclose()

    asyncio.run(run())
    messages = [r.getMessage() for r in caplog.records]
    assert any("unreachable" in m for m in messages)
    assert not any("hunter2" in m for m in messages)


def test_a_url_with_a_password_is_never_written_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """to_dict refuses a shared_state URL carrying a password, and writes one without."""
    from holysheep_client import ClientConfig, ProviderConfig, SharedStateConfig

    monkeypatch.setenv("T_SHARED_KEY", "k")

    def config(url: str) -> ClientConfig:
        return ClientConfig(
            providers=[
                ProviderConfig(
                    name="p", base_url=FakeProvider.url, api_key_env="T_SHARED_KEY"
                )
            ],
            shared_state=SharedStateConfig(url=url),
        )

    with pytest.raises(ConfigError, match="shared_state.url") as info:
        config("redis://:hunter2@127.0.0.1:6379/0").to_dict()
    assert "hunter2" not in str(info.value)
    data = config("redis://127.0.0.1:6379/0").to_dict()
    assert data["shared_state"]["url"] == "redis://127.0.0.1:6379/0"


def test_importing_the_package_never_imports_redis() -> None:
    """import holysheep_client (and a config with shared_state) does not import redis."""
    code = (
        "import sys, holysheep_client\n"
        "from holysheep_client import SharedStateConfig\n"
        "SharedStateConfig(url='redis://127.0.0.1:6379/0')\n"
        "assert 'redis' not in sys.modules, 'redis was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_missing_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the redis package, a config with shared_state fails with a clear ConfigError."""
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigError, match=r"holysheep-client\[redis\]"):
        StackState(make_config("redis://127.0.0.1:6379/0"))


@pytest.mark.anyio
async def test_health_shows_a_breaker_opened_by_another_client(
    redis_server: RedisServer,
) -> None:
    """A client whose call met the shared open breaker reports it open in health()."""
    from holysheep_client import AsyncClient, ServerError

    config = make_config(redis_server.url, fail_max=2, prefix="health:")
    failing, healthy = _failing(), FakeProvider()
    name = config.providers[0].name
    async with AsyncClient(config, transports={name: failing.async_transport()}) as a:
        for _ in range(2):
            with pytest.raises(ServerError):
                await a.chat(messages=[{"role": "user", "content": "x"}], model="m")
    async with AsyncClient(config, transports={name: healthy.async_transport()}) as b:
        assert b.health().providers[name].breaker == "closed"
        with pytest.raises(CircuitOpenError):
            await b.chat(messages=[{"role": "user", "content": "x"}], model="m")
        assert b.health().providers[name].breaker == "open"
        assert not b.health().ready
    assert not healthy.requests
