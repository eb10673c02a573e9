"""
SharedStore: the Redis connection behind shared breaker state, rate limits and
migration progress.

It fails open for the breaker and the rate limit (a migration fails safe instead:
see `MigrationStore`). Every command is a Lua script run with one ``EVALSHA`` round
trip, bounded by ``shared_state.timeout`` (the sockets' connect and read timeouts;
redis-py's own retries are off). When a command fails or times out, the store is *down*: it logs
one WARNING (logger ``holysheep_client``), every caller gets ``None`` at once and falls
back to its process's local state, and one caller per ``retry_interval`` tries Redis
again. The first command that succeeds logs one INFO line and ends the outage.

redis-py is imported here only, when a config sets ``shared_state``. Async commands
use ``redis.asyncio`` with one client per event loop (its connections belong to a
loop); sync commands use the blocking client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import weakref
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..._clock import SYSTEM_CLOCK
from ..._types import Clock
from ...errors import ConfigError

if TYPE_CHECKING:
    from ..._config import SharedStateConfig

__all__ = ["Script", "SharedStore", "redacted_url"]

LOGGER = logging.getLogger("holysheep_client")


@dataclass(frozen=True, slots=True)
class Script:
    """
    A Lua script and its SHA1, run with ``EVALSHA`` (``EVAL`` once after a flush).
    """

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        object.__setattr__(self, "sha", digest)


def redacted_url(url: str) -> str:
    """
    ``url`` without its user and password, for logs and reprs.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _redis_module() -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError:
        raise ConfigError(
            "shared_state",
            "needs the redis extra (pip install 'holysheep-client[redis]'),"
            " which is not installed",
        ) from None
    return redis


class SharedStore:
    """
    One Redis database shared by every process with the same url and prefix.

    Args:
        config: The ``shared_state`` section: url, key prefix, timeout.
        clock: The time source for the retry interval.
        retry_interval: Seconds between attempts to reach Redis while it is down.

    Raises:
        ConfigError: The ``redis`` extra is not installed.
    """

    def __init__(
        self,
        config: SharedStateConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        retry_interval: float = 1.0,
    ) -> None:
        self._redis = _redis_module()
        self.prefix = config.prefix
        self.timeout = config.timeout
        self.retry_interval = retry_interval
        self._url = config.url.get_secret_value()
        self.where = redacted_url(self._url)
        self._clock = clock
        self._down = False
        self._retry_at = 0.0
        # Outages seen so far: a reply to a command sent before the current outage
        # began (answered just before Redis went away) is not a sign it is back.
        self._outages = 0
        self._lock = threading.Lock()
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]
        self._async = weakref.WeakKeyDictionary()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._errors: tuple[type[BaseException], ...] = (
            self._redis.RedisError,
            OSError,
            asyncio.TimeoutError,
        )

    def key(self, *parts: str) -> str:
        """
        A key under this store's prefix: ``key("breaker", "p")`` -> ``holysheep:breaker:p``.
        """
        return self.prefix + ":".join(parts)

    @property
    def down(self) -> bool:
        """
        Whether Redis failed last time it was tried (calls use local state meanwhile).
        """
        return self._down

    # -- clients ---------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "health_check_interval": 0,
        }

    def _sync_client(self) -> Any:
        client = self._sync
        if client is None:
            with self._lock:
                if self._sync is None:
                    from redis.backoff import NoBackoff
                    from redis.retry import Retry

                    self._sync = self._redis.Redis.from_url(
                        self._url, retry=Retry(NoBackoff(), 0), **self._options()
                    )
                client = self._sync
        return client

    def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = self._redis.asyncio.Redis.from_url(
                self._url, retry=Retry(NoBackoff(), 0), **self._options()
            )
            self._async[loop] = client
        return client

    # -- outage bookkeeping ----------------------------------------------------------

    def _skip(self) -> bool:
        """True while down and not yet time to try again (then this caller tries)."""
        if not self._down:
            return False
        now = self._clock.monotonic()
        with self._lock:
            if now < self._retry_at:
                return True
            self._retry_at = now + self.retry_interval
            return False

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            first = not self._down
            self._down = True
            if first:
                self._outages += 1
            self._retry_at = self._clock.monotonic() + self.retry_interval
        if first:
            LOGGER.warning(
                "shared state at %s is unreachable (%s); using each process's local"
                " breaker and rate limit, and keeping the migration's last known phase"
                " (no phase advances), until it answers again",
                self.where,
                type(exc).__name__,
            )

    def _ok(self, outages: int) -> None:
        """A command sent when ``outages`` had been seen succeeded."""
        if self._down:
            with self._lock:
                if outages != self._outages:
                    return  # sent before this outage began: it says nothing of now
                was, self._down = self._down, False
            if was:
                LOGGER.info("shared state at %s answers again", self.where)

    # -- commands --------------------------------------------------------------------

    async def run_async(
        self, script: Script, keys: Sequence[str], args: Sequence[Any]
    ) -> Any:
        """
        Run ``script`` on this loop's client.

        Returns:
            The script's reply, or ``None`` when Redis is down or too slow.
        """
        if self._skip():
            return None
        outages = self._outages
        client = self._async_client()
        try:
            try:
                reply = await client.evalsha(script.sha, len(keys), *keys, *args)
            except self._redis.exceptions.NoScriptError:
                reply = await client.eval(script.source, len(keys), *keys, *args)
        except self._errors as exc:
            self._failed(exc)
            # Idle connections from before the outage are dead too: drop them, so
            # the first calls after Redis is back do not fail on them one by one.
            with contextlib.suppress(*self._errors):
                await client.connection_pool.disconnect(inuse_connections=False)
            return None
        self._ok(outages)
        return reply

    def run(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """
        Run ``script`` on the blocking client (sync stacks).

        Returns:
            The script's reply, or ``None`` when Redis is down or too slow.
        """
        if self._skip():
            return None
        outages = self._outages
        client = self._sync_client()
        try:
            try:
                reply = client.evalsha(script.sha, len(keys), *keys, *args)
            except self._redis.exceptions.NoScriptError:
                reply = client.eval(script.source, len(keys), *keys, *args)
        except self._errors as exc:
            self._failed(exc)
            with contextlib.suppress(*self._errors):
                client.connection_pool.disconnect(inuse_connections=False)
            return None
        self._ok(outages)
        return reply

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """
        Run ``coro`` in the background on the running loop (a write nobody awaits).
        """
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """
        Wait for this loop's background writes (verdicts) to land.
        """
        loop = asyncio.get_running_loop()
        pending = [t for t in self._tasks if t.get_loop() is loop]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """
        Finish this loop's background writes and close this loop's client.
        """
        await self.flush()
        loop = asyncio.get_running_loop()
        client = self._async.pop(loop, None)
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        """
        Close the blocking client (it reconnects if used again).
        """
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        return (
            f"<SharedStore url={self.where!r} prefix={self.prefix!r}"
            f" timeout={self.timeout} down={self._down}>"
        )
