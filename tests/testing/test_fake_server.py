"""
The loopback server: HTTP/1.1 handling, faults on real sockets, stats and lifetime.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from holysheep_client.testing import DEFAULT_REPLY, FakeServer, Fault
from holysheep_client.testing._cli import main

KEY = "test-key"
OPENAI = {"authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
STREAM = {
    "model": "m",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate: object, timeout: float = 3.0) -> bool:
    """Poll ``predicate()`` every 20 ms until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def text_of_stream(body: str) -> str:
    """The text of Anthropic deltas in an SSE body."""
    out = []
    for line in body.splitlines():
        if line.startswith("data: ") and "text_delta" in line:
            out.append(json.loads(line[6:])["delta"]["text"])
    return "".join(out)


async def raw(server: FakeServer, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 2.0)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.anyio
async def test_max_open_connections_counts_concurrent_sockets(
    server: FakeServer,
) -> None:
    """K connections held open at once are reported as open and as the maximum."""
    k = 5
    conns = [await asyncio.open_connection(server.host, server.port) for _ in range(k)]
    request = (
        f"GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\r\n"
    )
    for reader, writer in conns:
        writer.write(request.encode())
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
    stats = server.stats()
    assert (stats["open_connections"], stats["max_open_connections"]) == (k, k)
    for _, writer in conns:
        writer.close()
        await writer.wait_closed()
    assert wait_until(lambda: server.stats()["open_connections"] == 0)
    assert server.stats()["max_open_connections"] == k


@pytest.mark.anyio
async def test_pool_limit_is_visible_in_max_open_connections(
    server: FakeServer,
) -> None:
    """A client limited to 3 connections never has more than 3 open on the server."""
    server.set_faults([Fault("latency", delay=0.1)])
    limits = httpx2.Limits(max_connections=3)
    async with httpx2.AsyncClient(limits=limits, base_url=server.url) as client:
        rs = await asyncio.gather(
            *(client.get("/models", headers=OPENAI) for _ in range(9))
        )
    assert {r.status_code for r in rs} == {200}
    stats = server.stats()
    assert stats["max_open_connections"] == 3
    assert stats["requests"] == 9 and stats["max_in_flight"] == 3


def test_keep_alive_and_connection_close(server: FakeServer) -> None:
    """Requests reuse one kept-alive connection unless the client asks to close."""
    with httpx2.Client(base_url=server.url) as client:
        for _ in range(3):
            assert client.get("/models", headers=OPENAI).status_code == 200
        assert server.stats()["connections_total"] == 1
        for _ in range(2):
            r = client.get("/models", headers={**OPENAI, "connection": "close"})
            assert r.headers["connection"] == "close"
    # The first "close" request still rides the kept-alive connection; the second
    # needs a new one because the server closed the first after answering.
    assert server.stats()["connections_total"] == 2


@pytest.mark.anyio
async def test_chunked_request_body_and_bad_request_line(server: FakeServer) -> None:
    """A chunked request body is read; a malformed request line gets a 400."""
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    ).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
        f"authorization: Bearer {KEY}\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    answer = await raw(server, head.encode() + chunked)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert DEFAULT_REPLY.encode() in answer
    assert (await raw(server, b"NONSENSE\r\n\r\n")).startswith(b"HTTP/1.1 400 ")


def test_cut_and_drop_on_a_real_socket(server: FakeServer) -> None:
    """cut closes the socket mid-stream; drop closes it before any response."""
    server.set_faults([Fault("cut", after_chunks=2, times=1), Fault("drop", times=1)])
    got: list[str] = []
    with httpx2.Client(base_url=server.url) as client:
        with client.stream("POST", "/messages", json=STREAM, headers=ANTHROPIC) as r:
            assert r.status_code == 200
            with pytest.raises(httpx2.RemoteProtocolError):
                got.extend(r.iter_lines())
        with pytest.raises(httpx2.RemoteProtocolError):
            client.get("/models", headers=OPENAI)
        assert client.get("/models", headers=OPENAI).status_code == 200
    assert text_of_stream("\n".join(got)) == "Hello from"
    assert [r.fault for r in server.requests()] == ["cut", "drop", None]


def test_stall_and_slow_first_token_delay_in_real_time(server: FakeServer) -> None:
    """A stall pauses mid-stream for its delay; a read timeout shorter than it fires."""
    server.set_faults([Fault("stall", after_chunks=1, delay=0.3, times=2)])
    with httpx2.Client(base_url=server.url) as client:
        with client.stream("POST", "/messages", json=STREAM, headers=ANTHROPIC) as r:
            stamps = [
                (time.monotonic(), line)
                for line in r.iter_lines()
                if "text_delta" in line
            ]
        assert stamps[1][0] - stamps[0][0] >= 0.25
        assert text_of_stream("\n".join(s[1] for s in stamps)) == DEFAULT_REPLY
        with (
            client.stream(
                "POST", "/messages", json=STREAM, headers=ANTHROPIC, timeout=0.1
            ) as r,
            pytest.raises(httpx2.ReadTimeout),
        ):
            r.read()
        server.set_faults([Fault("slow_first_token", delay=0.2)])
        start = time.monotonic()
        with client.stream("POST", "/messages", json=STREAM, headers=ANTHROPIC) as r:
            headers_at = time.monotonic() - start
            r.read()
            body_at = time.monotonic() - start
    assert body_at - headers_at >= 0.15 and body_at >= 0.18


def test_latency_malformed_json_and_no_done(server: FakeServer) -> None:
    """latency delays headers; malformed_json breaks the body; no_done drops [DONE]."""
    server.set_faults(
        [
            Fault("latency", delay=0.15, times=1),
            Fault("malformed_json", times=1),
            Fault("no_done", times=1),
        ]
    )
    openai_stream = {
        "model": "m",
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with httpx2.Client(base_url=server.url) as client:
        start = time.monotonic()
        assert client.get("/models", headers=OPENAI).status_code == 200
        assert time.monotonic() - start >= 0.14
        broken = client.get("/models", headers=OPENAI)
        with pytest.raises(json.JSONDecodeError):
            broken.json()
        r = client.post("/chat/completions", json=openai_stream, headers=OPENAI)
    assert r.status_code == 200 and "[DONE]" not in r.text
    assert '"finish_reason":"stop"' in r.text


def test_probability_faults_are_reproducible_with_a_seed(server: FakeServer) -> None:
    """The same seed gives the same sequence of injected faults on the server."""

    def run() -> list[int]:
        server.set_faults([Fault("status", status=503, probability=0.5)], seed=11)
        with httpx2.Client(base_url=server.url) as client:
            return [
                client.get("/models", headers=OPENAI).status_code for _ in range(16)
            ]

    first = run()
    assert first == run()
    assert {200, 503} == set(first)


def test_admin_api(server: FakeServer) -> None:
    """The admin API configures the fake, rejects bad input, and is not counted."""
    server.configure(reply="Configured reply.", model_map={"a": "b"}, models=["x"])
    with httpx2.Client(base_url=server.url) as client:
        body = {"model": "a", "messages": [{"role": "user", "content": "q"}]}
        r = client.post("/chat/completions", json=body, headers=OPENAI).json()
        models = client.get("/models", headers=OPENAI).json()
        faults = client.get(f"{server.origin}/_fake/faults").json()
        missing = client.get(f"{server.origin}/_fake/nothing")
    assert (r["model"], r["choices"][0]["message"]["content"]) == (
        "b",
        "Configured reply.",
    )
    assert [m["id"] for m in models["data"]] == ["x"]
    assert faults == {"faults": []}
    assert missing.status_code == 404
    with pytest.raises(ValueError, match="unknown fault fields"):
        server._call(
            "POST", "/_fake/faults", {"faults": [{"kind": "drop", "bogus": 1}]}
        )
    with pytest.raises(ValueError, match="unknown config fields"):
        server._call("POST", "/_fake/config", {"colour": "red"})
    server.reset()
    stats = server.stats()
    assert stats["requests"] == 0
    assert stats["max_open_connections"] == stats["open_connections"] == 0


def test_request_log_over_the_admin_api_has_no_key() -> None:
    """GET /_fake/requests returns the log, and the key is in neither log nor argv."""
    with FakeServer.start(api_key="sk-top-secret") as server:
        with httpx2.Client(base_url=server.url) as client:
            client.get("/models", headers={"authorization": "Bearer sk-top-secret"})
        [rec] = server.requests()
        raw_log = json.dumps(server._call("GET", "/_fake/requests"))
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    assert (rec.path, rec.auth, rec.key_valid, rec.status) == (
        "/v1/models",
        "bearer",
        True,
        200,
    )
    assert "sk-top-secret" not in raw_log
    assert b"sk-top-secret" not in cmdline


def test_server_stops_by_pid_and_leaves_nothing() -> None:
    """stop() terminates the child by pid with exit status 0 and no process remains."""
    server = FakeServer.start()
    pid = server.pid
    assert alive(pid) and server.running
    assert server.stop() == 0
    assert not alive(pid)
    assert "stopped" in repr(server)


def test_server_exits_when_its_parent_dies() -> None:
    """A server whose parent is killed stops by itself."""
    code = (
        "import time\n"
        "from holysheep_client.testing import FakeServer\n"
        "s = FakeServer.start()\n"
        "print(s.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert alive(pid)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    assert wait_until(lambda: not alive(pid))


def test_cli_prints_the_listening_line_and_stops_on_sigint() -> None:
    """`serve` prints exactly `listening on http://127.0.0.1:PORT` first and exits on SIGINT."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holysheep_client.testing",
            "serve",
            "--port",
            "0",
            "--api-key",
            "k",
            "--reply",
            "Yo there",
            "--model-map",
            "a=b",
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith("listening on http://127.0.0.1:") and line.endswith("\n")
    port = int(line.strip().rsplit(":", 1)[1])
    body = {"model": "a", "messages": [{"role": "user", "content": "q"}]}
    r = httpx2.post(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer k"},
    )
    assert (r.json()["model"], r.json()["choices"][0]["message"]["content"]) == (
        "b",
        "Yo there",
    )
    proc.send_signal(signal.SIGINT)
    assert proc.wait(5) == 0
    assert proc.stdout.read() == b""
    proc.stdout.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--model-map", "no-equals"],
        ["serve", "--faults", '{"kind": "drop"}'],
        ["serve", "--faults", '[{"kind": "explode"}]'],
        ["serve", "--faults", "@/nonexistent/faults.json"],
    ],
    ids=["model-map", "faults-not-list", "faults-bad-kind", "faults-no-file"],
)
def test_cli_rejects_bad_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid options exit with status 2 and a message on stderr."""
    assert main(argv) == 2
    assert capsys.readouterr().err


def test_start_failure_raises_runtime_error() -> None:
    """A server that cannot bind makes start() raise instead of hanging."""
    with pytest.raises(RuntimeError, match="did not start"):
        FakeServer.start(host="203.0.113.1", startup_timeout=5)
