"""
The bound every socket operation is clamped to, and the Abort that wakes a blocked read.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpcore2
import httpx
import httpx2
import pytest

from holysheep_client import PoolConfig
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client._transports.deadline import (
    Abort,
    Bound,
    deadline_backend,
    enter_bound,
    leave_bound,
    time_left,
)
from holysheep_client._transports.pool import build_pool_transport
from holysheep_client.testing import FakeClock


def test_time_left_clamps_to_the_current_bound() -> None:
    """Inside a bound a timeout is cut to the time left; outside it is untouched."""
    clock = FakeClock(monotonic=100.0)
    assert time_left(30.0) == 30.0 and time_left(None) is None
    token = enter_bound(Bound(102.5, clock, None))
    try:
        assert time_left(30.0) == pytest.approx(2.5)
        assert time_left(None) == pytest.approx(2.5)
        assert time_left(1.0) == 1.0
        clock.advance(3.0)
        assert time_left(30.0) == pytest.approx(-0.5)
    finally:
        leave_bound(token)
    assert time_left(30.0) == 30.0


def test_a_bound_without_deadline_leaves_timeouts_alone() -> None:
    """A bound that only carries an Abort does not shorten any timeout."""
    token = enter_bound(Bound(None, FakeClock(), Abort()))
    try:
        assert time_left(7.0) == 7.0
    finally:
        leave_bound(token)


@pytest.fixture
def connected() -> Iterator[tuple[Any, socket.socket]]:
    """A network stream of the deadline backend, and the peer socket it talks to."""
    server = socket.create_server(("127.0.0.1", 0))
    peers: list[socket.socket] = []
    accepting = threading.Thread(target=lambda: peers.append(server.accept()[0]))
    accepting.start()
    stream = deadline_backend(httpcore2, sync=True).connect_tcp(
        "127.0.0.1", server.getsockname()[1], timeout=2.0
    )
    accepting.join()
    yield stream, peers[0]
    stream.close()
    peers[0].close()
    server.close()


def test_every_read_gets_only_the_time_left(
    connected: tuple[Any, socket.socket],
) -> None:
    """A peer that sends a byte every 0.1 s cannot hold reads past the bound."""
    stream, peer = connected
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.1):
            try:
                peer.sendall(b"x")
            except OSError:
                return

    dripper = threading.Thread(target=drip)
    dripper.start()
    got = 0
    start = SYSTEM_CLOCK.monotonic()
    token = enter_bound(Bound(start + 0.5, SYSTEM_CLOCK, None))
    try:
        while True:
            try:
                got += len(stream.read(1, timeout=5.0))
            except httpcore2.ReadTimeout:
                break
    finally:
        leave_bound(token)
        stop.set()
        dripper.join()
    assert got >= 2, "the drip did arrive"
    assert 0.5 <= SYSTEM_CLOCK.monotonic() - start <= 0.6


def test_an_abort_wakes_a_blocked_read_at_once(
    connected: tuple[Any, socket.socket],
) -> None:
    """Aborting from another thread ends a read that would wait 5 s, and later ones."""
    stream, _ = connected
    abort = Abort()
    timer = threading.Timer(0.1, abort.abort)
    token = enter_bound(Bound(None, SYSTEM_CLOCK, abort))
    start = SYSTEM_CLOCK.monotonic()
    timer.start()
    try:
        with pytest.raises(httpcore2.ReadError):
            stream.read(1, timeout=5.0)
        assert SYSTEM_CLOCK.monotonic() - start < 1.0
        with pytest.raises(httpcore2.ReadError):
            stream.read(1, timeout=5.0)
    finally:
        leave_bound(token)
        timer.join()
    assert abort.aborted


def test_a_past_bound_refuses_connect_and_write(
    connected: tuple[Any, socket.socket],
) -> None:
    """Once the bound has passed, no socket operation starts."""
    stream, _ = connected
    clock = FakeClock(monotonic=10.0)
    token = enter_bound(Bound(9.0, clock, None))
    try:
        with pytest.raises(httpcore2.WriteTimeout):
            stream.write(b"x", timeout=5.0)
        with pytest.raises(httpcore2.ConnectTimeout):
            deadline_backend(httpcore2, sync=True).connect_tcp("127.0.0.1", 9)
    finally:
        leave_bound(token)


# -- the pool's probe of idle connections ---------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("core", [httpcore2, httpcore], ids=["httpcore2", "httpcore"])
async def test_an_idle_async_connection_is_probed_on_its_own_socket(
    core: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not readable while idle and open, readable once the peer closes; one lookup."""
    asked: list[str] = []
    stream_class = core._backends.anyio.AnyIOStream
    original = stream_class.get_extra_info

    def recording(self: Any, info: str) -> Any:
        asked.append(info)
        return original(self, info)

    monkeypatch.setattr(stream_class, "get_extra_info", recording)
    server = socket.create_server(("127.0.0.1", 0))
    peers: list[socket.socket] = []
    accepting = threading.Thread(target=lambda: peers.append(server.accept()[0]))
    accepting.start()
    stream = await deadline_backend(core, sync=False).connect_tcp(
        "127.0.0.1", server.getsockname()[1], timeout=2.0
    )
    accepting.join()
    peer = peers[0]
    try:
        assert not any(stream.get_extra_info("is_readable") for _ in range(50))
        assert asked == ["socket"], "the socket is looked up once, then probed here"
        assert stream.get_extra_info("socket").fileno() >= 0
        peer.close()
        with anyio.fail_after(2.0):
            while not stream.get_extra_info("is_readable"):
                await anyio.sleep(0.01)
        assert asked == ["socket", "socket"], "other attributes pass through"
    finally:
        await stream.aclose()
        peer.close()
        server.close()
    assert stream.get_extra_info("is_readable"), "a closed socket reads as gone"


@dataclass
class _ClosingServer:
    """A loopback HTTP server that closes each connection after its answer, unannounced."""

    url: str
    closed: threading.Semaphore
    accepted: list[int]


@pytest.fixture
def closing_server() -> Iterator[_ClosingServer]:
    server = socket.create_server(("127.0.0.1", 0))
    got = _ClosingServer(
        f"http://127.0.0.1:{server.getsockname()[1]}/", threading.Semaphore(0), []
    )

    def serve() -> None:
        for _ in range(3):
            peer, _ = server.accept()
            got.accepted.append(1)
            with peer:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += peer.recv(4096)
                peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            got.closed.release()

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    yield got
    server.close()
    serving.join(timeout=2.0)


# A moment for the server's FIN to reach the client's socket before the next request.
_FIN = 0.05


@pytest.mark.anyio
@pytest.mark.parametrize("lib", [httpx2, httpx], ids=["httpx2", "httpx"])
async def test_the_async_pool_drops_a_keep_alive_connection_the_server_closed(
    lib: Any, closing_server: _ClosingServer
) -> None:
    """The pool sees each connection closed and opens a new one: all three succeed."""
    transport = build_pool_transport(
        PoolConfig(backend="httpcore"),
        sync=False,
        flavor="httpx2" if lib is httpx2 else "httpx",
    )
    try:
        for _ in range(3):
            request = lib.Request("GET", closing_server.url)
            response = await transport.handle_async_request(request)
            assert (await response.aread()) == b"ok"
            await response.aclose()
            closed = closing_server.closed
            assert await anyio.to_thread.run_sync(closed.acquire, True, 2.0)
            await anyio.sleep(_FIN)
    finally:
        await transport.aclose()
    assert len(closing_server.accepted) == 3


@pytest.mark.parametrize("lib", [httpx2, httpx], ids=["httpx2", "httpx"])
def test_the_sync_pool_drops_a_keep_alive_connection_the_server_closed(
    lib: Any, closing_server: _ClosingServer
) -> None:
    """The sync twin: the same three requests on the sync pool all succeed."""
    transport = build_pool_transport(
        PoolConfig(backend="httpcore"),
        sync=True,
        flavor="httpx2" if lib is httpx2 else "httpx",
    )
    try:
        for _ in range(3):
            response = transport.handle_request(lib.Request("GET", closing_server.url))
            assert response.read() == b"ok"
            response.close()
            assert closing_server.closed.acquire(True, 2.0)
            time.sleep(_FIN)
    finally:
        transport.close()
    assert len(closing_server.accepted) == 3
