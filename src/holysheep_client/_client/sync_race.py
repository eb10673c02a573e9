"""
The threaded race: a call's hops over its failover plan, hedged on worker threads
(a loser is stopped through its `Abort`), and reading a body through its observed
stream.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, TypeVar

from .._protocols import ChatRequestSpec
from .._routing.failover import FailoverPlan
from .._routing.hedging import HedgeRace
from .._transports.deadline import Abort
from .._transports.observed import observed
from ..errors import HolySheepError

if TYPE_CHECKING:
    import httpx2

__all__ = ["Workers", "read_body_sync", "send_sync"]

T = TypeVar("T")


class Workers:
    """
    The threads a client's hedging races run on, started on first use; shared by
    the client and its `with_options` views, guarded by a lock.

    Args:
        width: Threads at most.
    """

    __slots__ = ("_lock", "_pool", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.width, thread_name_prefix="holysheep-hedge"
                )
            return self._pool

    def shutdown(self) -> None:
        """Stop the threads (running races finish; queued ones are dropped)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def __repr__(self) -> str:
        return f"<Workers width={self.width} started={self._pool is not None}>"


def read_body_sync(response: httpx2.Response, *, judge: bool = False) -> bytes:
    """
    A response's whole body, read through its observed stream; see `read_body_async`.
    """
    stream = observed(response)
    try:
        if stream is None:
            return response.content
        if judge:
            stream.defer()
        chunks = []
        while (chunk := stream.read_sync()) is not None:
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if not judge:
            response.close()


def send_sync(
    walk: FailoverPlan,
    race: HedgeRace | None,
    hop: Callable[[str, ChatRequestSpec, Abort | None], T],
    pool: Callable[[], ThreadPoolExecutor],
    discard: Callable[[T], None] | None = None,
) -> T:
    """
    Run ``hop`` over the failover plan, hedged when ``race`` is given.

    The racers run in ``pool``'s threads, each in a copy of the caller's context.
    The first success wins; the others are aborted, and a racer that succeeds
    anyway is handed to ``discard``.
    """
    if race is None:
        while (name := walk.next()) is not None:
            try:
                return hop(name, walk.spec, None)
            except HolySheepError as err:
                walk.failed(name, err)
        raise walk.final_error()
    running: dict[Future[T], tuple[str, Abort]] = {}

    def launch(name: str | None) -> None:
        if name is not None:
            abort = Abort()
            ctx = contextvars.copy_context()
            future = pool().submit(ctx.run, hop, name, walk.spec, abort)
            running[future] = (name, abort)

    launch(race.start())
    try:
        while running:
            done, _ = wait(running, timeout=race.wait(), return_when=FIRST_COMPLETED)
            if not done:
                launch(race.timed_out())
                continue
            names = {future: running.pop(future)[0] for future in done}
            won = [future for future in done if future.exception() is None]
            if won:
                for extra in won[1:]:
                    if discard is not None:
                        discard(extra.result())
                return won[0].result()
            for future, name in names.items():
                exc = future.exception()
                assert exc is not None
                launch(race.failed(name, exc, len(running)))
        raise race.final_error()
    finally:
        for future, (_, abort) in running.items():
            abort.abort()
            if discard is not None:
                future.add_done_callback(_discarding(discard))


def _discarding(discard: Callable[[T], None]) -> Callable[[Future[T]], None]:
    def done(future: Future[T]) -> None:
        if not future.cancelled() and future.exception() is None:
            discard(future.result())

    return done
