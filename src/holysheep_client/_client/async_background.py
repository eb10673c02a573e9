"""
AsyncBackground: how `AsyncClient` runs a migration's background work (shadow calls
and round trips to the shared state) as tasks nobody awaits, off the callers' path.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

from .._observe.log import logger
from .._routing.progress_types import SyncJob
from .._routing.shadow import ShadowJob
from .._types import AsyncTransport
from ..errors import HolySheepError
from .async_race import read_body_async
from .migration import MigrationDriver

__all__ = ["AsyncBackground"]


class AsyncBackground:
    """
    Launches what the `MigrationDriver` decides, as tasks on the running loop.

    Each task runs in a context of its own, so no call's span is current in it.
    Shared by a client and its `with_options` views.

    Args:
        driver: The client's migration driver.
        stack: The shadow calls' stack (``None`` without shadow traffic).
    """

    __slots__ = ("_driver", "_stack", "tasks")

    def __init__(self, driver: MigrationDriver, stack: AsyncTransport | None) -> None:
        self._driver = driver
        self._stack = stack
        self.tasks: set[asyncio.Task[None]] = set()

    def _spawn(
        self, work: Coroutine[Any, Any, None], dropped: Callable[[], None]
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a view used outside one): nothing runs it
            work.close()
            dropped()
            return
        task = loop.create_task(work, context=contextvars.Context())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def shadow(self, job: ShadowJob) -> None:
        """
        Start one shadow call.
        """
        driver = self._driver
        self._spawn(self._shadow(job), lambda: driver.shadow_done(job, None, None))

    def sync(self, job: SyncJob) -> None:
        """
        Start one round trip to the shared migration state.
        """
        driver = self._driver
        self._spawn(self._sync(job), lambda: driver.dropped(job))

    async def _shadow(self, job: ShadowJob) -> None:
        driver, stack, shadow = self._driver, self._stack, self._driver.shadow
        assert stack is not None and shadow is not None
        try:
            request = shadow.request(job)
            response = await stack.handle_async_request(request)
            try:
                body = await read_body_async(response, judge=response.status_code < 300)
                answer = shadow.answer(job, request, response, body)
            finally:
                await response.aclose()
        except HolySheepError as exc:
            driver.shadow_done(job, None, exc)
        except asyncio.CancelledError:
            driver.shadow_done(job, None, None)
            raise
        except Exception:
            logger.exception("shadow call to %s failed unexpectedly", job.target)
            driver.shadow_done(job, None, None)
        else:
            driver.shadow_done(job, answer, None)

    async def _sync(self, job: SyncJob) -> None:
        driver = self._driver
        assert driver.remote is not None
        try:
            reply = await driver.remote.run_async(driver.sync_args(job))
        except asyncio.CancelledError:
            driver.dropped(job)
            raise
        driver.synced(job, reply)

    async def aclose(self) -> None:
        """
        Cancel what still runs, and wait for it to end.
        """
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def __repr__(self) -> str:
        return f"<AsyncBackground tasks={len(self.tasks)}>"
