"""
SyncBackground: how `Client` runs a migration's background work (shadow calls and
round trips to the shared state) on its worker threads, off the callers' path.
"""

from __future__ import annotations

from .._observe.log import logger
from .._routing.progress_types import SyncJob
from .._routing.shadow import ShadowJob
from .._types import SyncTransport
from ..errors import HolySheepError
from .migration import MigrationDriver
from .sync_race import Workers, read_body_sync

__all__ = ["SyncBackground"]


class SyncBackground:
    """
    Launches what the `MigrationDriver` decides, on the client's worker threads.

    The client's `Workers` are wide enough for them: ``max_in_flight`` shadow calls
    and one round trip never take a thread a hedging race needs. Shared by a client
    and its `with_options` views.

    Args:
        driver: The client's migration driver.
        stack: The shadow calls' stack (``None`` without shadow traffic).
        workers: The client's worker threads.
    """

    __slots__ = ("_driver", "_stack", "_workers")

    def __init__(
        self, driver: MigrationDriver, stack: SyncTransport | None, workers: Workers
    ) -> None:
        self._driver = driver
        self._stack = stack
        self._workers = workers

    def shadow(self, job: ShadowJob) -> None:
        """
        Start one shadow call.
        """
        try:
            self._workers().submit(self._shadow, job)
        except RuntimeError:  # the pool is shut down: the client is closing
            self._driver.shadow_done(job, None, None)

    def sync(self, job: SyncJob) -> None:
        """
        Start one round trip to the shared migration state.
        """
        try:
            self._workers().submit(self._sync, job)
        except RuntimeError:
            self._driver.dropped(job)

    def _shadow(self, job: ShadowJob) -> None:
        driver, stack, shadow = self._driver, self._stack, self._driver.shadow
        assert stack is not None and shadow is not None
        try:
            request = shadow.request(job)
            response = stack.handle_request(request)
            try:
                body = read_body_sync(response, judge=response.status_code < 300)
                answer = shadow.answer(job, request, response, body)
            finally:
                response.close()
        except HolySheepError as exc:
            driver.shadow_done(job, None, exc)
        except Exception:
            logger.exception("shadow call to %s failed unexpectedly", job.target)
            driver.shadow_done(job, None, None)
        else:
            driver.shadow_done(job, answer, None)

    def _sync(self, job: SyncJob) -> None:
        driver = self._driver
        assert driver.remote is not None
        driver.synced(job, driver.remote.run(driver.sync_args(job)))

    def __repr__(self) -> str:
        return f"<SyncBackground workers={self._workers!r}>"
