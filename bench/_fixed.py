"""
The layers' own cost, with no network: the same httpx2 client over an in-memory
transport, bare and under the full stack, one call at a time, in alternated runs.
Printed beside the timed ratios: what the layers' Python costs per call, apart from
what the machine's noise and the pool's I/O do to it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2

from holysheep_client._client.http_client import _ClientTransport
from holysheep_client._resilience.stack import build_transport_stack

from ._variants import BODY, HEADERS, PER_ATTEMPT, bench_config

__all__ = ["fixed_cost"]

URL = "http://127.0.0.1:9/v1"
REPLY = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "deepseek-v3.2",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
).encode()


class _Body(httpx2.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield REPLY

    async def aclose(self) -> None:
        return None


class _Memory(httpx2.AsyncBaseTransport):
    """Answers every request at once, with a body streamed like a pool's."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        async for _ in request.stream:  # type: ignore[union-attr]
            pass
        headers = {"content-type": "application/json"}
        return httpx2.Response(200, headers=headers, stream=_Body())


def _client(stacked: bool) -> httpx2.AsyncClient:
    transport: Any = _Memory()
    if stacked:
        stack = build_transport_stack(bench_config(URL), "fake", inner=transport)
        transport = _ClientTransport(stack, httpx2, "fake")
    return httpx2.AsyncClient(
        transport=transport, timeout=httpx2.Timeout(PER_ATTEMPT, connect=5.0)
    )


async def _calls(client: httpx2.AsyncClient, n: int) -> None:
    for _ in range(n):
        response = await client.post(f"{URL}/messages", json=BODY, headers=HEADERS)
        response.json()


def fixed_cost(calls: int = 4000, runs: int = 10) -> tuple[float, float]:
    """
    CPU seconds per call of (bare, stacked), each the median of ``runs`` runs.
    """
    loop = asyncio.new_event_loop()
    try:
        clients = {False: _client(False), True: _client(True)}
        for client in clients.values():
            loop.run_until_complete(_calls(client, 500))
        got: dict[bool, list[float]] = {False: [], True: []}
        for run in range(runs):
            for stacked in (False, True) if run % 2 == 0 else (True, False):
                gc.collect()
                start = time.process_time()
                loop.run_until_complete(_calls(clients[stacked], calls))
                got[stacked].append((time.process_time() - start) / calls)
        for client in clients.values():
            loop.run_until_complete(client.aclose())
        return statistics.median(got[False]), statistics.median(got[True])
    finally:
        loop.close()
