"""
FakeServer: start, drive and stop the loopback fake provider in a child process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ._cli import API_KEY_ENV
from ._faults import Fault
from ._provider import DEFAULT_API_KEY, DEFAULT_REPLY
from ._ready_scripts import script_to_spec
from ._records import RecordedRequest
from ._script import Script

__all__ = ["FakeServer"]

_PREFIX = "listening on http://"


class _Keep:
    """``configure(script=...)`` omitted: keep the current script."""


_KEEP = _Keep()


def _drain(stream: IO[bytes], first: queue.Queue[str]) -> None:
    """
    Hand over the first line, then read on so the child never blocks on a pipe.
    """
    first.put(stream.readline().decode(errors="replace"))
    for _ in iter(lambda: stream.read(4096), b""):
        pass


class FakeServer:
    """
    The fake provider served over real HTTP by a child process.

    Use `FakeServer.start` (a context manager too). The child exits on
    `stop`, on SIGTERM/SIGINT, and by itself when this process dies.

    Attributes:
        host: The loopback address it listens on.
        port: The port it listens on.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        host: str,
        port: int,
        reader: threading.Thread | None = None,
    ) -> None:
        self._process = process
        self._reader = reader
        self.host = host
        self.port = port

    @classmethod
    def start(
        cls,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        reply: str = DEFAULT_REPLY,
        script: Script | Mapping[str, Any] | None = None,
        images: bool = True,
        latency: float = 0.0,
        seed: int = 0,
        models: Sequence[str] | None = None,
        model_map: Mapping[str, str] | None = None,
        faults: Iterable[Fault] = (),
        host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
    ) -> FakeServer:
        """
        Start ``python -m holysheep_client.testing serve`` and wait until it listens.

        Args:
            api_key: The key requests must carry (passed in the environment, never
                on the command line); ``None`` accepts any non-empty key.
            reply: The reply text.
            script: `tool_loop(...)`, `json_answer(...)`, a `FakeReply`, or their
                JSON spec (see `configure`); a plain function cannot cross the
                process boundary.
            images: ``False`` refuses images as a text-only model does.
            latency: Seconds before every response.
            seed: Seed for probabilistic faults.
            models: The model ids ``/models`` lists.
            model_map: Requested model id -> the id reported back.
            faults: The initial fault plan.
            host: The loopback address to bind.
            startup_timeout: Seconds to wait for the ``listening on`` line.

        Returns:
            The running server.

        Raises:
            RuntimeError: If the child exits or stays silent past ``startup_timeout``.
        """
        cmd = [
            sys.executable,
            "-m",
            "holysheep_client.testing",
            "serve",
            "--host",
            host,
        ]
        cmd += [
            "--port",
            "0",
            "--reply",
            reply,
            "--latency",
            str(latency),
            "--seed",
            str(seed),
        ]
        cmd += ["--parent-pid", str(os.getpid())]
        spec = script_to_spec(script)
        if spec:
            cmd += ["--script", json.dumps(spec)]
        if not images:
            cmd.append("--no-images")
        for m in models or ():
            cmd += ["--model", m]
        for requested, reported in (model_map or {}).items():
            cmd += ["--model-map", f"{requested}={reported}"]
        fault_list = [f.to_dict() for f in faults]
        if fault_list:
            cmd += ["--faults", json.dumps(fault_list)]
        env = dict(os.environ)
        env.pop(API_KEY_ENV, None)
        if api_key is None:
            cmd.append("--any-key")
        else:
            env[API_KEY_ENV] = api_key
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (src, env.get("PYTHONPATH")) if p
        )
        process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env
        )
        assert process.stdout is not None
        first: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(
            target=_drain, args=(process.stdout, first), daemon=True
        )
        reader.start()
        try:
            line = first.get(timeout=startup_timeout).strip()
        except queue.Empty:
            line = ""
        if not line.startswith(_PREFIX):
            process.kill()
            process.wait()
            reader.join(1.0)
            process.stdout.close()
            raise RuntimeError(
                f"the fake server did not start (exit status {process.returncode});"
                f" expected a line starting {_PREFIX!r}, got {line!r}"
            )
        port = int(line.rsplit(":", 1)[1])
        return cls(process, host, port, reader)

    # -- addresses -----------------------------------------------------------------

    @property
    def pid(self) -> int:
        """
        The child process id.
        """
        return self._process.pid

    @property
    def origin(self) -> str:
        """
        ``http://HOST:PORT``: the anthropic SDK's base URL (it adds ``/v1``).
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """
        ``http://HOST:PORT/v1``: the provider base URL (and the openai SDK's).
        """
        return f"{self.origin}/v1"

    @property
    def running(self) -> bool:
        """
        Whether the child is still alive.
        """
        return self._process.poll() is None

    # -- the admin API -------------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            body = None if payload is None else json.dumps(payload).encode()
            headers = {"content-type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = json.loads(response.read() or b"null")
        finally:
            conn.close()
        if response.status != 200:
            message = data.get("error") if isinstance(data, dict) else data
            raise ValueError(f"{method} {path} answered {response.status}: {message}")
        return data

    def set_faults(self, faults: Iterable[Fault], *, seed: int | None = None) -> None:
        """
        Replace the fault plan (``POST /_fake/faults``).

        Args:
            faults: The new faults, in priority order; empty for none.
            seed: A new seed for probabilistic faults; ``None`` keeps the current one.
        """
        payload: dict[str, Any] = {"faults": [f.to_dict() for f in faults]}
        if seed is not None:
            payload["seed"] = seed
        self._call("POST", "/_fake/faults", payload)

    def configure(
        self,
        *,
        reply: str | None = None,
        script: Script | Mapping[str, Any] | None | _Keep = _KEEP,
        images: bool | None = None,
        count_tokens: bool | None = None,
        models: Sequence[str] | None = None,
        model_map: Mapping[str, str] | None = None,
        latency: float | None = None,
    ) -> None:
        """
        Change the reply, script, images, token counting, models, model map or
        latency.

        This is ``POST /_fake/config`` with a JSON object of the fields to
        change. A script travels as its JSON spec:
        ``{"tool_loop": {"tool": NAME, "input": {...}, "answer": "... {result} ..."}}``,
        ``{"json_answer": VALUE}`` or ``{"reply": {FakeReply fields}}``
        (``text``, ``tool_calls`` as ``[{"name", "input", "id"?}]``,
        ``thinking``, ``json``, ``cache_read_tokens``, ``cache_write_tokens``,
        ``stop_reason``); ``null`` removes the script.

        Args:
            reply: The new reply text.
            script: `tool_loop(...)`, `json_answer(...)`, a `FakeReply`, a spec
                mapping, or ``None`` to remove the script (omitted: unchanged).
            images: ``False`` makes the model refuse images; ``True`` takes them.
            count_tokens: ``False`` answers ``/messages/count_tokens`` with 404.
            models: The new ``/models`` list.
            model_map: The new requested -> reported model map.
            latency: The new base latency, in seconds.

        Raises:
            TypeError: For a script that is a plain Python function.
            ValueError: When the server refuses the change.
        """
        payload: dict[str, Any] = {}
        if not isinstance(script, _Keep):
            payload["script"] = script_to_spec(script)
        if images is not None:
            payload["images"] = images
        if count_tokens is not None:
            payload["count_tokens"] = count_tokens
        if reply is not None:
            payload["reply"] = reply
        if models is not None:
            payload["models"] = list(models)
        if model_map is not None:
            payload["model_map"] = dict(model_map)
        if latency is not None:
            payload["latency"] = latency
        self._call("POST", "/_fake/config", payload)

    def reset(self) -> None:
        """
        Restore the start-up configuration and clear the log and counters.
        """
        self._call("POST", "/_fake/reset", {})

    def stats(self) -> dict[str, Any]:
        """
        The server's counters (``GET /_fake/stats``).

        Returns:
            ``requests``, ``in_flight``, ``max_in_flight``, ``faults_applied``,
            ``faults`` (per fault: ``kind``, ``remaining``, ``applied``),
            ``open_connections``, ``max_open_connections`` (the most API
            connections open at once since the last reset; admin calls are not
            counted) and ``connections_total``.
        """
        data: dict[str, Any] = self._call("GET", "/_fake/stats")
        return data

    def requests(self) -> list[RecordedRequest]:
        """
        The request log, oldest first (``GET /_fake/requests``); no keys.
        """
        data = self._call("GET", "/_fake/requests")
        return [RecordedRequest.from_dict(r) for r in data["requests"]]

    # -- lifetime ------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> int:
        """
        Terminate the child by pid and wait for it; kill it if it lingers.

        Args:
            timeout: Seconds to wait after SIGTERM before SIGKILL.

        Returns:
            The child's exit status.
        """
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        if self._process.stdout is not None and not self._process.stdout.closed:
            self._process.stdout.close()
        return self._process.returncode

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<FakeServer {self.url} pid={self.pid} {state}>"
