"""
The loopback HTTP/1.1 server around a `FakeProvider`, on asyncio streams only.

It keeps connections alive, reads Content-Length (or chunked) request bodies,
answers with Content-Length or chunked (SSE) bodies, and serves an admin API
under ``/_fake/``. Admin connections are not counted as open connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from . import _http11 as http11
from ._faults import Fault
from ._plan import dumps
from ._provider import FakeProvider
from ._ready_scripts import script_from_spec

__all__ = ["FakeHTTPServer", "serve"]


class FakeHTTPServer:
    """
    Serve a `FakeProvider` over HTTP/1.1 on a loopback socket.

    Shared state (the connection counters) lives on this object; every
    connection runs as its own task on one event loop.

    Args:
        provider: The fake answering the API requests.
        host: The address to bind.
        port: The port to bind; 0 picks a free one.
    """

    def __init__(
        self, provider: FakeProvider, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.provider = provider
        self.host = host
        self.port = port
        self.open_connections = 0
        self.max_open_connections = 0
        self.connections_total = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        """
        Bind and start accepting; returns the bound port.
        """
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """
        Stop accepting and close every open connection.
        """
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=2.0)
            for task in pending:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    def stats(self) -> dict[str, Any]:
        """
        The provider's counters plus the connection counters.
        """
        out = self.provider.stats()
        out.update(
            open_connections=self.open_connections,
            max_open_connections=self.max_open_connections,
            connections_total=self.connections_total,
        )
        return out

    def __repr__(self) -> str:
        return f"<FakeHTTPServer {self.host}:{self.port} open={self.open_connections}>"

    # -- connections ---------------------------------------------------------------

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        counted = False
        try:
            while True:
                try:
                    request = await http11.read_request(reader)
                except http11.BadRequest as exc:
                    await http11.write_response(
                        writer, 400, [], dumps({"error": str(exc)}), keep=False
                    )
                    break
                if request is None:
                    break
                method, target, version, headers, body = request
                path = urlsplit(target).path
                keep = http11.keep_alive(version, headers)
                if path.startswith("/_fake/"):
                    status, obj = self._admin(method, path, body)
                    await http11.write_response(
                        writer,
                        status,
                        [("content-type", "application/json")],
                        dumps(obj),
                        keep,
                    )
                else:
                    if not counted:
                        counted = True
                        self._opened()
                    plan = self.provider.handle(method, path, headers, body)
                    self.provider.enter_flight()
                    try:
                        keep = await http11.play(reader, writer, plan, keep)
                    finally:
                        self.provider.leave_flight()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only `close()` cancels, at shutdown; ending quietly keeps asyncio's
            # stream callback (which reads the task's exception) from logging it.
            pass
        finally:
            if counted:
                self.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)
            self._writers.discard(writer)

    def _opened(self) -> None:
        self.open_connections += 1
        self.connections_total += 1
        self.max_open_connections = max(
            self.max_open_connections, self.open_connections
        )

    # -- the admin API -------------------------------------------------------------

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        route = (method.upper(), path.rstrip("/"))
        try:
            data: Any = json.loads(body) if body.strip() else None
        except ValueError:
            return 400, {"error": "the body is not valid JSON"}
        try:
            if route == ("GET", "/_fake/stats"):
                return 200, self.stats()
            if route == ("GET", "/_fake/requests"):
                return 200, {"requests": [r.to_dict() for r in self.provider.requests]}
            if route == ("GET", "/_fake/faults"):
                return 200, {"faults": [f.to_dict() for f in self.provider.faults]}
            if route == ("POST", "/_fake/faults"):
                items = data.get("faults", []) if isinstance(data, dict) else data
                seed = data.get("seed") if isinstance(data, dict) else None
                if not isinstance(items, list):
                    raise ValueError("faults must be a list")
                self.provider.set_faults([Fault.from_dict(f) for f in items], seed=seed)
                return 200, {"faults": len(items)}
            if route == ("POST", "/_fake/reset"):
                self.provider.reset()
                self.max_open_connections = self.open_connections
                self.connections_total = self.open_connections
                return 200, {"ok": True}
            if route == ("POST", "/_fake/config"):
                _configure(self.provider, data if isinstance(data, dict) else {})
                return 200, {"ok": True}
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}
        return 404, {"error": f"no admin route {method} {path}"}


_CONFIG_FIELDS = {
    "reply", "script", "images", "count_tokens", "models", "model_map", "latency",
}  # fmt: skip


def _configure(provider: FakeProvider, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - _CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"unknown config fields: {', '.join(unknown)}")
    if "script" in data:
        provider.script = script_from_spec(data["script"])
    for flag in ("images", "count_tokens"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ValueError(f"{flag} must be true or false")
            setattr(provider, flag, data[flag])
    if "reply" in data:
        provider.reply = str(data["reply"])
    if "models" in data:
        provider.models = [str(m) for m in data["models"]]
    if "model_map" in data:
        provider.model_map = {
            str(k): str(v) for k, v in dict(data["model_map"]).items()
        }
    if "latency" in data:
        provider.latency = float(data["latency"])


def _parent_alive(parent_pid: int, original_ppid: int) -> bool:
    if os.getppid() != original_ppid:
        return False
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def serve(
    provider: FakeProvider,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    parent_pid: int | None = None,
    ready: Callable[[int], None] | None = None,
) -> None:
    """
    Run the server until SIGTERM/SIGINT, or until the parent process dies.

    Args:
        provider: The fake to serve.
        host: The address to bind.
        port: The port to bind; 0 picks a free one.
        parent_pid: Exit when this process is gone (0 disables the watch;
            ``None`` watches the process that started this one).
        ready: Called with the bound port once the server accepts connections.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first: a SIGTERM sent right after the "listening" line must be graceful.
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    server = FakeHTTPServer(provider, host=host, port=port)
    bound = await server.start()
    if ready is not None:
        ready(bound)
    original_ppid = os.getppid()
    watched = original_ppid if parent_pid is None else parent_pid

    async def watch() -> None:
        while watched and _parent_alive(watched, original_ppid):
            await asyncio.sleep(0.2)
        if watched:
            stop.set()

    watcher = asyncio.create_task(watch())
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await server.close()
