"""
ChatStream: the synchronous shell over `StreamMachine`; it only sends, reads and yields.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .._content.events import StreamEvent, TextDelta
from .._models import ChatResponse
from .._protocols import ChatRequestSpec
from .._transports.deadline import Abort
from .._types import SyncTransport
from ..errors import BadRequestError, HolySheepError, StreamInterruptedError
from .options import CallOptions
from .resume import PrefixFilter, ResumePlan, SkipFilter
from .stream import Segment, StreamMachine
from .sync_race import read_body_sync, send_sync

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = ["ChatStream"]


class ChatStream:
    """
    A streamed chat answer for `Client`; use as ``with client.stream(...) as s``.

    The same as `AsyncChatStream`: failover and hedging before the first delta,
    `StreamInterruptedError` after it, or with ``resume=True`` a seamless
    continuation on a healthy provider.
    """

    def __init__(
        self,
        client: BaseClient[SyncTransport],
        spec: ChatRequestSpec,
        *,
        route_key: str | None,
        resume: bool,
        options: CallOptions,
        workers: Callable[[], ThreadPoolExecutor],
    ) -> None:
        self._client = client
        self._workers = workers
        self._spec = spec
        self._route_key = route_key
        self._resume = resume
        self._options = options
        self._machine: StreamMachine | None = None
        self._gen: Iterator[StreamEvent] | None = None
        self._open: list[Segment] = []
        self._lock = threading.Lock()  # hedge losers are discarded from workers

    def __repr__(self) -> str:
        return f"<ChatStream model={self._spec.model!r} resume={self._resume}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """
        Stop the stream and release its connection.
        """
        if self._gen is not None:
            with contextlib.suppress(Exception):
                self._gen.close()  # type: ignore[attr-defined]
        self._close_open()

    @property
    def events(self) -> Iterator[StreamEvent]:
        """
        The stream's typed events, as they arrive (a single-use iterator).

        .. versionadded:: 0.2.0
        """
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    @property
    def text_stream(self) -> Iterator[str]:
        """
        The text deltas, as they arrive (the same single-use stream as ``events``).
        """
        return (e.text for e in self.events if isinstance(e, TextDelta))

    def get_final_response(self) -> ChatResponse:
        """
        Read the stream to its end and return the whole answer.

        Raises:
            StreamInterruptedError: The stream broke after its first delta.
        """
        for _ in self.events:
            pass
        assert self._machine is not None and self._machine.final is not None
        return self._machine.final

    # -- the shell -------------------------------------------------------------------

    def _run(self) -> Iterator[StreamEvent]:
        client = self._client
        call = client._begin(self._spec, self._route_key, self._options, stream=True)
        m = self._machine = StreamMachine(client, call, resume=self._resume)
        error: BaseException | None = None
        try:
            with call.scope.active():
                walk = client._walk(call)
                seg = send_sync(
                    walk,
                    client._race(call, walk),
                    self._open_segment,
                    self._workers,
                    self._discard,
                )
                m.adopt(walk.spec)
            m.commit(seg)
            while True:
                try:
                    yield from m.take(seg)
                    while not seg.done:
                        chunk = seg.body.read_sync(m.read_deadline(seg))
                        if chunk is None:
                            m.eof(seg)
                            break
                        m.feed(seg, chunk)
                        yield from m.take(seg)
                    break
                except HolySheepError as err:
                    self._discard(seg)
                    plan = m.broke(seg, err)
                    with call.scope.active():
                        seg = self._resumed(plan)
                    m.commit(seg)
            m.finish()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._close_open()
            call.scope.attach()
            client._finish(call, m.final, error, ttft=m.ttft)

    def _open_segment(
        self,
        name: str,
        spec: ChatRequestSpec,
        abort: Abort | None = None,
        flt: SkipFilter | PrefixFilter | None = None,
    ) -> Segment:
        """Send one hop and read it up to its first event (or its end)."""
        client, m = self._client, self._machine
        assert m is not None
        request, sent = client._hops.request(m.call, name, spec, abort=abort)
        response = client._stacks[name].handle_request(request)
        if response.status_code >= 300:
            raise client._hops.error(name, response, read_body_sync(response))
        seg = m.begin(name, sent, request, response, flt)
        with self._lock:
            self._open.append(seg)
        try:
            while not m.opened(seg):
                chunk = seg.body.read_sync(m.read_deadline(seg))
                if chunk is None:
                    m.eof(seg)
                    break
                m.feed(seg, chunk)
        except BaseException:
            self._discard(seg)
            raise
        return seg

    def _resumed(self, plan: ResumePlan) -> Segment:
        """Continue on the first healthy provider that takes it."""
        m = self._machine
        assert m is not None
        for name in plan.candidates:
            if not m.resuming(plan, name):
                break
            try:
                try:
                    skip = SkipFilter(plan.skip)
                    return self._open_segment(name, plan.prefill, None, skip)
                except BadRequestError:
                    # The prefill was refused: ask again without it, past the prefix.
                    flt = PrefixFilter(plan.partial, name)
                    return self._open_segment(name, plan.spec, None, flt)
            except StreamInterruptedError:
                raise
            except HolySheepError:
                continue
        raise plan.unresumable()

    def _discard(self, seg: Segment) -> None:
        with self._lock:
            if seg in self._open:
                self._open.remove(seg)
        with contextlib.suppress(Exception):
            seg.response.close()

    def _close_open(self) -> None:
        while True:
            with self._lock:
                if not self._open:
                    return
                seg = self._open[-1]
            self._discard(seg)
