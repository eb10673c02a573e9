"""
AsyncChatStream: the asyncio shell over `StreamMachine`; it only sends, reads and yields.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .._content.events import StreamEvent, TextDelta
from .._models import ChatResponse
from .._protocols import ChatRequestSpec
from .._types import AsyncTransport
from ..errors import BadRequestError, HolySheepError, StreamInterruptedError
from .async_race import read_body_async, send_async
from .options import CallOptions
from .resume import PrefixFilter, ResumePlan, SkipFilter
from .stream import Segment, StreamMachine

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = ["AsyncChatStream"]


class AsyncChatStream:
    """
    A streamed chat answer; use as ``async with client.stream(...) as s``.

    ``events`` yields typed events as they arrive (`TextDelta`, `ToolUseStart`,
    `ToolUseDelta`, `ToolUseEnd`, `ThinkingDelta`), ``text_stream`` the text alone;
    `get_final_response` returns the `ChatResponse` whose text is exactly the joined
    text deltas, with the tool calls. Before the first
    delta the stream retries, hedges and fails over like ``chat``; after it, a
    break raises `StreamInterruptedError`, or with ``resume=True`` continues on a
    healthy provider.
    """

    def __init__(
        self,
        client: BaseClient[AsyncTransport],
        spec: ChatRequestSpec,
        *,
        route_key: str | None,
        resume: bool,
        options: CallOptions,
    ) -> None:
        self._client = client
        self._spec = spec
        self._route_key = route_key
        self._resume = resume
        self._options = options
        self._machine: StreamMachine | None = None
        self._gen: AsyncIterator[StreamEvent] | None = None
        self._open: list[Segment] = []

    def __repr__(self) -> str:
        return f"<AsyncChatStream model={self._spec.model!r} resume={self._resume}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """
        Stop the stream and release its connection.
        """
        if self._gen is not None:
            with contextlib.suppress(Exception):
                await self._gen.aclose()  # type: ignore[attr-defined]
        await self._close_open()

    @property
    def events(self) -> AsyncIterator[StreamEvent]:
        """
        The stream's typed events, as they arrive (a single-use iterator).

        .. versionadded:: 0.2.0
        """
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """
        The text deltas, as they arrive (the same single-use stream as ``events``).
        """
        return _texts(self.events)

    async def get_final_response(self) -> ChatResponse:
        """
        Read the stream to its end and return the whole answer.

        Raises:
            StreamInterruptedError: The stream broke after its first delta.
        """
        async for _ in self.events:
            pass
        assert self._machine is not None and self._machine.final is not None
        return self._machine.final

    # -- the shell -------------------------------------------------------------------

    async def _run(self) -> AsyncIterator[StreamEvent]:
        client = self._client
        await client._ledger.load_async(self._options.tags)
        call = client._begin(self._spec, self._route_key, self._options, stream=True)
        m = self._machine = StreamMachine(client, call, resume=self._resume)
        error: BaseException | None = None
        try:
            with call.scope.active():
                walk = client._walk(call)
                seg = await send_async(
                    walk, client._race(call, walk), self._open_segment, self._discard
                )
                m.adopt(walk.spec)
            m.commit(seg)
            while True:
                try:
                    for delta in m.take(seg):
                        yield delta
                    while not seg.done:
                        chunk = await seg.body.read_async(m.read_deadline(seg))
                        if chunk is None:
                            m.eof(seg)
                            break
                        m.feed(seg, chunk)
                        for delta in m.take(seg):
                            yield delta
                    break
                except HolySheepError as err:
                    await self._discard(seg)
                    plan = m.broke(seg, err)
                    with call.scope.active():
                        seg = await self._resumed(plan)
                    m.commit(seg)
            m.finish()
        except BaseException as exc:
            error = exc
            raise
        finally:
            await self._close_open()
            call.scope.attach()
            client._finish(call, m.final, error, ttft=m.ttft)

    async def _open_segment(
        self,
        name: str,
        spec: ChatRequestSpec,
        flt: SkipFilter | PrefixFilter | None = None,
    ) -> Segment:
        """Send one hop and read it up to its first event (or its end)."""
        client, m = self._client, self._machine
        assert m is not None
        request, sent = client._hops.request(m.call, name, spec)
        response = await client._stacks[name].handle_async_request(request)
        if response.status_code >= 300:
            raise client._hops.error(name, response, await read_body_async(response))
        seg = m.begin(name, sent, request, response, flt)
        self._open.append(seg)
        try:
            while not m.opened(seg):
                chunk = await seg.body.read_async(m.read_deadline(seg))
                if chunk is None:
                    m.eof(seg)
                    break
                m.feed(seg, chunk)
        except BaseException:
            await self._discard(seg)
            raise
        return seg

    async def _resumed(self, plan: ResumePlan) -> Segment:
        """Continue on the first healthy provider that takes it."""
        m = self._machine
        assert m is not None
        for name in plan.candidates:
            if not m.resuming(plan, name):
                break
            try:
                try:
                    skip = SkipFilter(plan.skip)
                    return await self._open_segment(name, plan.prefill, skip)
                except BadRequestError:
                    # The prefill was refused: ask again without it, past the prefix.
                    flt = PrefixFilter(plan.partial, name)
                    return await self._open_segment(name, plan.spec, flt)
            except StreamInterruptedError:
                raise
            except HolySheepError:
                continue
        raise plan.unresumable()

    async def _discard(self, seg: Segment) -> None:
        if seg in self._open:
            self._open.remove(seg)
        with contextlib.suppress(Exception):
            await seg.response.aclose()

    async def _close_open(self) -> None:
        while self._open:
            await self._discard(self._open[-1])


async def _texts(events: AsyncIterator[StreamEvent]) -> AsyncIterator[str]:
    async for event in events:
        if isinstance(event, TextDelta):
            yield event.text
