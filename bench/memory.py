"""
``python -m bench.memory``: resident memory per in-flight stream, and the peak, with
1,000 streams open at once (each read to its first delta, the server holding the rest).

Each variant runs in a fresh interpreter: it warms up on ten full streams, then opens
the streams on a model the fake stalls after one delta, and reads the resident set
(``/proc/self/statm``) once all of them have their first delta. The figure is the
growth over the warmed-up process (connections, buffers and every object of a
stream), divided by the streams; the peak is ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from holysheep_client.testing import DEFAULT_API_KEY, FakeServer, Fault

from ._streams import MAX_TOKENS, REPLY, STREAM_VARIANTS
from ._variants import (
    HEADERS,
    MESSAGES,
    PER_ATTEMPT,
    bench_config,
    connect_timeout,
    limits,
)

__all__ = ["main", "measure_memory"]

HOLD = "hold-model"  # the fake stalls these streams after their first delta
WARM = "warm-model"


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_CLIENTS: dict[str, Any] = {}
_HELD = [0]  # streams that reached their first delta and wait


async def _stream(key: str, url: str, model: str, hold: asyncio.Event | None) -> None:
    """One stream of ``key``'s client: read whole, or to its first delta, then held."""
    client = _CLIENTS[key]
    if key == "raw_sse":
        body = {
            "model": model,
            "max_tokens": MAX_TOKENS,
            "messages": MESSAGES,
            "stream": True,
        }
        async with client.stream(
            "POST", f"{url}/messages", json=body, headers=HEADERS
        ) as r:
            async for chunk in r.aiter_raw():
                if hold is not None and b"content_block_delta" in chunk:
                    _HELD[0] += 1
                    await hold.wait()
                    break
        return
    if key == "sdk_sse":
        stream = await client.messages.create(
            model=model, max_tokens=MAX_TOKENS, messages=MESSAGES, stream=True
        )
        async for event in stream:
            if hold is not None and event.type == "content_block_delta":
                _HELD[0] += 1
                await hold.wait()
                break
        await stream.close()
        return
    async with client.stream(
        messages=MESSAGES, model=model, max_tokens=MAX_TOKENS
    ) as s:
        async for _ in s.text_stream:
            if hold is not None:
                _HELD[0] += 1
                await hold.wait()
                break


def _client(key: str, origin: str, url: str, streams: int) -> Any:
    if key == "raw_sse":
        import httpx2

        return httpx2.AsyncClient(
            limits=httpx2.Limits(**limits(streams)),
            timeout=httpx2.Timeout(PER_ATTEMPT, connect=connect_timeout(streams)),
        )
    if key == "sdk_sse":
        import anthropic

        return anthropic.AsyncAnthropic(
            base_url=origin, api_key=DEFAULT_API_KEY, max_retries=0
        )
    from holysheep_client import AsyncClient

    backend = "aiohttp" if key.endswith("_aio") else "httpcore"
    return AsyncClient(bench_config(url, streams, backend))


async def _child(key: str, origin: str, url: str, streams: int) -> dict[str, Any]:
    client = _CLIENTS[key] = _client(key, origin, url, streams)
    try:
        # Warm-up: a few streams, so the code paths have run (imports, caches).
        await asyncio.gather(*(_stream(key, url, WARM, None) for _ in range(10)))
        gc.collect()
        before = _rss()
        release = asyncio.Event()
        tasks = [
            asyncio.ensure_future(_stream(key, url, HOLD, release))
            for _ in range(streams)
        ]
        # Every stream has its first delta once the server holds all of them.
        for _ in range(600):
            await asyncio.sleep(0.1)
            if _HELD[0] >= streams:
                break
        gc.collect()
        during = _rss()
        release.set()
        await asyncio.gather(*tasks)
    finally:
        closing = getattr(client, "aclose", None) or client.close
        await closing()
    return {
        "per_stream": (during - before) / streams,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def measure_memory(key: str, server: FakeServer, streams: int) -> dict[str, Any]:
    """
    Run one variant's measurement in a fresh interpreter; its JSON result.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.memory",
            "--child",
            key,
            server.origin,
            server.url,
            str(streams),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:100]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print memory per in-flight stream and the peak for each stream variant.
    """
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    p.add_argument("--streams", type=int, default=1000)
    p.add_argument("--child", nargs=4, metavar=("KEY", "ORIGIN", "URL", "STREAMS"))
    p.add_argument("--only", nargs="+", choices=[v.key for v in STREAM_VARIANTS])
    args = p.parse_args(argv)
    if args.child:
        key, origin, url, streams = args.child
        print(json.dumps(asyncio.run(_child(key, origin, url, int(streams)))))
        return 0
    faults = [Fault("stall", after_chunks=1, delay=120.0, match_model=HOLD)]
    with FakeServer.start(reply=REPLY, faults=faults) as server:
        for v in STREAM_VARIANTS:
            if args.only and v.key not in args.only:
                continue
            r = measure_memory(v.key, server, args.streams)
            if "error" in r:
                print(f"{v.label:36} n/a ({r['error']})")
                continue
            print(
                f"{v.label:36} {r['per_stream'] / 1024:7.1f} KiB per stream,"
                f" peak RSS {r['peak'] / 2**20:6.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
