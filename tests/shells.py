"""
One harness for both clients: every client behaviour test runs on `AsyncClient` and on
`Client` through the ``shell`` fixture (see ``conftest.py``). Tests over loopback run
the async client on both pool backends too (``POOL_SHELLS``: ``async`` on httpcore,
``aiohttp``, ``sync``).

The sync client runs in a worker thread, so a test is written once, as async code:

```python
async def test_x(shell: Shell) -> None:
    async with shell.client(config, fakes=fakes) as client:
        r = await client.chat(messages=..., model="m")
        s = await client.stream(messages=..., model="m")
```
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from holysheep_client import (
    AsyncClient,
    ChatResponse,
    Client,
    ClientConfig,
    Health,
    HolySheepError,
    TextDelta,
)
from holysheep_client._clock import SYSTEM_CLOCK
from holysheep_client._content.events import StreamEvent
from holysheep_client.testing import FakeProvider

__all__ = [
    "POOL_SHELLS",
    "SHELLS",
    "Shell",
    "ShellClient",
    "TEST_DEFAULT_BACKEND",
    "StreamResult",
    "on_backend",
]

SHELLS = ("async", "sync")
#: The async pool default the suite runs on: aiohttp (shipped), or httpcore under
#: ``HOLYSHEEP_TEST_POOL_BACKEND=httpcore`` (``make test-httpcore``, see conftest.py).
TEST_DEFAULT_BACKEND = os.environ.get("HOLYSHEEP_TEST_POOL_BACKEND", "aiohttp")
#: For tests that reach the pool (loopback servers): the async client on each backend.
POOL_SHELLS = ("async", "aiohttp", "sync")


def on_backend(config: ClientConfig, backend: str) -> ClientConfig:
    """``config`` with its pool on ``backend`` (``"httpcore"`` or ``"aiohttp"``)."""
    if config.pool.backend == backend:
        return config
    pool = config.pool.model_copy(update={"backend": backend})
    return config.model_copy(update={"pool": pool})


T = TypeVar("T")


@dataclass
class StreamResult:
    """What a caller saw of one stream: the events (``deltas`` their text), then the
    answer or the error."""

    deltas: list[str] = field(default_factory=list)
    events: list[StreamEvent] = field(default_factory=list)
    final: ChatResponse | None = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def text(self) -> str:
        """The joined deltas."""
        return "".join(self.deltas)

    def saw(self, event: StreamEvent) -> None:
        """Record one event (a text delta's text in ``deltas`` too)."""
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.deltas.append(event.text)


class ShellClient:
    """`AsyncClient` or `Client` behind the same async methods."""

    def __init__(
        self,
        kind: Literal["async", "sync"],
        config: ClientConfig,
        *,
        fakes: Mapping[str, FakeProvider] | None = None,
        backend: str = "httpcore",
        **kw: Any,
    ) -> None:
        self.kind = kind
        config = on_backend(config, backend)
        if fakes is not None:
            kw["transports"] = {
                name: f.async_transport() if kind == "async" else f.sync_transport()
                for name, f in fakes.items()
            }
        self.raw: AsyncClient | Client = (
            AsyncClient(config, **kw) if kind == "async" else Client(config, **kw)
        )

    @classmethod
    def of(cls, raw: AsyncClient | Client) -> ShellClient:
        """A shell around an existing client (a `with_options` view, say)."""
        shell = cls.__new__(cls)
        shell.kind = "async" if isinstance(raw, AsyncClient) else "sync"
        shell.raw = raw
        return shell

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client."""
        if isinstance(self.raw, AsyncClient):
            await self.raw.aclose()
        else:
            self.raw.close()

    async def chat(self, **kw: Any) -> ChatResponse:
        """``client.chat(**kw)``."""
        raw = self.raw
        if isinstance(raw, AsyncClient):
            return await raw.chat(**kw)
        return await asyncio.to_thread(lambda: raw.chat(**kw))

    async def timed_chat(self, **kw: Any) -> tuple[ChatResponse | BaseException, float]:
        """The answer (or the error) of ``client.chat(**kw)``, and its wall time."""
        t0 = SYSTEM_CLOCK.monotonic()
        try:
            out: ChatResponse | BaseException = await self.chat(**kw)
        except HolySheepError as exc:
            out = exc
        return out, SYSTEM_CLOCK.monotonic() - t0

    async def stream(self, **kw: Any) -> StreamResult:
        """Read ``client.stream(**kw)`` to its end; a typed error is captured."""
        raw = self.raw
        out = StreamResult()
        t0 = SYSTEM_CLOCK.monotonic()
        if isinstance(raw, AsyncClient):
            try:
                async with raw.stream(**kw) as s:
                    async for event in s.events:
                        out.saw(event)
                    out.final = await s.get_final_response()
            except HolySheepError as exc:
                out.error = exc
        else:
            sync = raw

            def run() -> None:
                try:
                    with sync.stream(**kw) as s:
                        for event in s.events:
                            out.saw(event)
                        out.final = s.get_final_response()
                except HolySheepError as exc:
                    out.error = exc

            await asyncio.to_thread(run)
        out.seconds = SYSTEM_CLOCK.monotonic() - t0
        return out

    async def models(self, provider: str | None = None) -> list[str]:
        """``client.models(provider)``."""
        raw = self.raw
        if isinstance(raw, AsyncClient):
            return await raw.models(provider)
        return await asyncio.to_thread(lambda: raw.models(provider))

    async def count_tokens(self, messages: Any, **kw: Any) -> int:
        """``client.count_tokens(messages, **kw)``."""
        raw = self.raw
        if isinstance(raw, AsyncClient):
            return await raw.count_tokens(messages, **kw)
        return await asyncio.to_thread(lambda: raw.count_tokens(messages, **kw))

    async def verify(self, provider: str | None = None) -> None:
        """``client.verify(provider)``."""
        raw = self.raw
        if isinstance(raw, AsyncClient):
            await raw.verify(provider)
        else:
            await asyncio.to_thread(lambda: raw.verify(provider))

    def health(self) -> Health:
        """``client.health()``."""
        return self.raw.health()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """``client.set_weights(weights)``."""
        self.raw.set_weights(weights)


class Shell:
    """Which client a test runs on: ``"async"``, ``"sync"``, or ``"aiohttp"`` (the
    async client on the aiohttp pool)."""

    def __init__(self, kind: Literal["async", "sync", "aiohttp"]) -> None:
        self.name = kind
        self.backend = "aiohttp" if kind == "aiohttp" else "httpcore"
        self.kind: Literal["async", "sync"] = "sync" if kind == "sync" else "async"

    def client(
        self,
        config: ClientConfig,
        *,
        fakes: Mapping[str, FakeProvider] | None = None,
        **kw: Any,
    ) -> ShellClient:
        """A client of this shell; ``fakes`` become its in-process transports."""
        return ShellClient(self.kind, config, fakes=fakes, backend=self.backend, **kw)

    def __repr__(self) -> str:
        return self.name
