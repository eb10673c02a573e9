"""
AsyncChatStream: failover before the first delta, typed breaks after it, resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .._models import ChatResponse, Usage
from .._observe.details import RouteDecision
from .._protocols import ChatRequestSpec, StreamDecoder
from .._routing.failover import FailoverPlan
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    HolySheepError,
    StreamInterruptedError,
    map_transport_errors,
)
from .base import CallRecord, ClientCore

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncChatStream", "Segment", "resume_messages"]


@dataclass(slots=True)
class Segment:
    """
    One provider's part of a stream: who served it and what it reported.
    """

    provider: str
    sent_model: str
    decoder: StreamDecoder | None = None
    request_id: str | None = None


def resume_messages(spec: ChatRequestSpec, partial: str) -> tuple[ChatRequestSpec, str]:
    """
    The request that continues ``partial`` as an assistant prefill.

    Anthropic rejects a prefill ending in white space, so it is stripped and the
    returned skip text (the stripped tail) is dropped from the continuation.
    """
    prefill = partial.rstrip()
    messages = [*spec.messages, {"role": "assistant", "content": prefill}]
    return replace(spec, messages=messages), partial[len(prefill) :]


class AsyncChatStream:
    """
    A streamed chat answer; use as ``async with client.stream(...) as s``.

    ``text_stream`` yields text deltas as they arrive; `get_final_response` returns
    the `ChatResponse` whose text is exactly the joined deltas.
    """

    def __init__(
        self,
        core: ClientCore,
        spec: ChatRequestSpec,
        *,
        route_key: str | None,
        resume: bool,
    ) -> None:
        self._core = core
        self._spec = spec
        self._route_key = route_key
        self._resume = resume
        self._record = CallRecord()
        self._delivered: list[str] = []
        self._segments: list[Segment] = []
        self._open: list[AsyncIterator[str]] = []
        self._final: ChatResponse | None = None
        self._gen: AsyncIterator[str] | None = None
        self._started = core.clock.monotonic()
        self._deadline = core.deadline()
        self._ttft: float | None = None

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
        await self.aclose_inner()
        if self._gen is not None:
            with contextlib.suppress(Exception):
                await self._gen.aclose()  # type: ignore[attr-defined]

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """
        The text deltas, as they arrive (a single-use iterator).
        """
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def get_final_response(self) -> ChatResponse:
        """
        Read the stream to its end and return the whole answer.

        Raises:
            StreamInterruptedError: The stream broke after its first delta.
        """
        async for _ in self.text_stream:
            pass
        if self._final is None:  # pragma: no cover - _run always sets it
            raise APIConnectionError("the stream ended without an answer")
        return self._final

    # -- internals -------------------------------------------------------------------

    async def _provider_deltas(
        self, name: str, spec: ChatRequestSpec
    ) -> AsyncIterator[str]:
        core = self._core
        sent = core.spec_for(name, spec)
        segment = Segment(name, sent.model)
        self._segments.append(segment)
        request = core.chat_request(
            name, sent, deadline=self._deadline, record=self._record
        )
        response = await core.stacks[name].handle_async_request(request)
        try:
            if response.status_code >= 300:
                with map_transport_errors(name):
                    body = await response.aread()
                raise core.error_from(name, response, body)
            segment.request_id = response.headers.get(
                "request-id"
            ) or response.headers.get("x-request-id")
            decoder = core.protocols[name].stream_decoder(provider=name)
            segment.decoder = decoder
            async for delta in self._decode(name, response, decoder):
                yield delta
        finally:
            await response.aclose()

    async def _decode(
        self, name: str, response: httpx2.Response, decoder: StreamDecoder
    ) -> AsyncIterator[str]:
        core = self._core
        timeouts = core.config.timeout
        clock = core.clock
        first_by = (
            None
            if timeouts.first_token is None
            else clock.monotonic() + timeouts.first_token
        )
        got_first = False
        raw = response.aiter_raw()
        state = core.state.providers[name]
        try:
            while True:
                limits = [
                    core.remaining(self._deadline),
                    (first_by - clock.monotonic())
                    if first_by is not None and not got_first
                    else (timeouts.stream_idle if got_first else None),
                ]
                limit = min((x for x in limits if x is not None), default=None)
                try:
                    with map_transport_errors(name):
                        if limit is None:
                            chunk = await raw.__anext__()
                        else:
                            async with asyncio.timeout(max(limit, 0.0)):
                                chunk = await raw.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    state.report_stream_failure()
                    if core.expired(self._deadline):
                        raise core.timeout_error(name) from None
                    what = "the first token" if not got_first else "the next chunk"
                    raise APITimeoutError(
                        f"provider {name!r} sent no {what} in time", provider=name
                    ) from None
                try:
                    deltas = decoder.feed(chunk)
                except HolySheepError:
                    state.report_stream_failure()
                    raise
                for delta in deltas:
                    if not got_first:
                        got_first = True
                    yield delta
                if decoder.ended:
                    break
        finally:
            with contextlib.suppress(Exception):
                await raw.aclose()
        if not decoder.ended and decoder.stop_reason is None:
            state.report_stream_failure()
            raise APIConnectionError(
                f"provider {name!r} ended the stream without an end marker",
                provider=name,
            )
        state.report_stream_success()

    async def _first(
        self, name: str, spec: ChatRequestSpec
    ) -> tuple[AsyncIterator[str], str | None]:
        """
        Open a provider's stream and wait for its first delta (``None``: empty answer).
        """
        gen = self._provider_deltas(name, spec)
        self._open.append(gen)
        try:
            first = await gen.__anext__()
        except StopAsyncIteration:
            return gen, None
        except BaseException:
            self._open.remove(gen)
            await gen.aclose()  # type: ignore[attr-defined]
            raise
        return gen, first

    async def _run(self) -> AsyncIterator[str]:
        core, spec = self._core, self._spec
        plan = core.router.plan(self._route_key)
        error: BaseException | None = None
        scope = core.hooks.call("chat", spec.model, spec.messages, stream=True)
        try:
            with scope.active():
                gen, first = await self._open_first(plan, spec)
            served = self._segments[-1].provider
            if first is not None:
                self._ttft = core.clock.monotonic() - self._started
                self._delivered.append(first)
                yield first
            while True:
                try:
                    async for delta in gen:
                        self._delivered.append(delta)
                        yield delta
                    break
                except HolySheepError as err:
                    partial = "".join(self._delivered)
                    core.count(served, ok=False)
                    if not self._resume:
                        raise StreamInterruptedError(
                            f"the stream from provider {served!r} broke after"
                            f" {len(partial)} characters ({type(err).__name__})",
                            partial_text=partial,
                            provider=served,
                        ) from err
                    with scope.active():
                        gen = await self._resumed(plan, spec, partial, served, err)
                    served = self._segments[-1].provider
            self._final = self._finish(served)
            core.count(served, ok=True, cost=self._final.cost_usd)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await self.aclose_inner()
            scope.attach()
            if not isinstance(error, asyncio.CancelledError | GeneratorExit):
                final_provider = self._final.provider if self._final else None
                if plan:
                    core.target_outcome(
                        plan[0], final_provider, core.clock.monotonic() - self._started
                    )
                core.report(
                    operation="chat",
                    model=spec.model,
                    started=self._started,
                    record=self._record,
                    response=self._final,
                    error=error,
                    stream=True,
                    ttft=self._ttft,
                )
            scope.finish(error, self._final)

    async def aclose_inner(self) -> None:
        """
        Close the provider streams still open (not the caller's iterator).
        """
        for gen in reversed(self._open):
            with contextlib.suppress(Exception):
                await gen.aclose()  # type: ignore[attr-defined]
        self._open.clear()

    async def _first_hedged(
        self, name: str, spec: ChatRequestSpec, spare: list[str]
    ) -> tuple[AsyncIterator[str], str | None]:
        """
        `_first`, with a hedge on the next provider when the first delta is late.

        The first provider to deliver a first delta wins; the other is cancelled
        and its connection released. The hedge is charged to the retry budget.
        """
        core = self._core
        delay = core.hedge_delay()
        if delay is None or not spare:
            return await self._first(name, spec)
        start = len(self._segments)
        primary = asyncio.ensure_future(self._first(name, spec))
        done, _ = await asyncio.wait({primary}, timeout=delay)
        if done or not core.state.budget.try_spend():
            return await primary
        other = spare[0]
        core.hooks.route(RouteDecision(other, len(self._segments), "hedge"))
        racers = {primary: name, asyncio.ensure_future(self._first(other, spec)): other}
        pending = set(racers)
        first_error: BaseException | None = None
        try:
            while pending:
                done, pending = await asyncio.wait(
                    pending, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    exc = task.exception()
                    if exc is not None:
                        if task is primary or first_error is None:
                            first_error = exc
                        continue
                    winner = racers[task]
                    for loser in done - {task}:
                        if loser.exception() is None:
                            gen, _ = loser.result()
                            self._open.remove(gen)
                            await gen.aclose()  # type: ignore[attr-defined]
                    segs = self._segments[start:]
                    self._segments[start:] = [g for g in segs if g.provider == winner][
                        -1:
                    ]
                    return task.result()
            assert first_error is not None
            raise first_error
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _open_first(
        self, plan: list[str], spec: ChatRequestSpec
    ) -> tuple[AsyncIterator[str], str | None]:
        walk = FailoverPlan(self._core, plan, spec, deadline=self._deadline)
        while (name := walk.next()) is not None:
            try:
                opened = await self._first_hedged(name, walk.spec, walk.remaining())
            except HolySheepError as err:
                walk.failed(name, err)
            else:
                self._spec = walk.spec
                return opened
        raise walk.final_error()

    async def _resumed(
        self,
        plan: list[str],
        spec: ChatRequestSpec,
        partial: str,
        failed: str,
        cause: BaseException,
    ) -> AsyncIterator[str]:
        """
        Continue the stream on a healthy provider; returns the continuation's deltas.
        """
        core = self._core
        prefill_spec, skip = resume_messages(spec, partial)
        healthy = [
            n
            for n in plan
            if n != failed and core.state.providers[n].breaker.state != "open"
        ]
        for name in healthy:
            if core.expired(self._deadline):
                break
            core.hooks.route(
                RouteDecision(name, len(self._segments), "resume", type(cause).__name__)
            )
            try:
                gen, first = await self._first(name, prefill_spec)
                return _skipping(gen, first, skip)
            except BadRequestError:
                # The provider refused the prefill: restart without it and check
                # that the new answer begins with what the caller already has.
                try:
                    gen, first = await self._first(name, spec)
                except HolySheepError:
                    continue
                return await _past_prefix(gen, first, partial, name)
            except HolySheepError:
                continue
        raise StreamInterruptedError(
            f"the stream from provider {failed!r} broke and no provider could resume it",
            partial_text=partial,
            provider=failed,
        ) from cause

    def _finish(self, served: str) -> ChatResponse:
        core = self._core
        text = "".join(self._delivered)
        last = self._segments[-1]
        dec = last.decoder
        cost: float | None = 0.0
        out_tokens = 0
        for seg in self._segments:
            if seg.decoder is None:
                continue
            out_tokens += seg.decoder.output_tokens
            c = core.prices.cost(
                seg.sent_model, seg.decoder.input_tokens, seg.decoder.output_tokens
            )
            cost = None if c is None or cost is None else cost + c
        latency = core.clock.monotonic() - self._started
        return ChatResponse(
            text=text,
            model=(dec.model if dec and dec.model else last.sent_model),
            provider=served,
            usage=Usage(dec.input_tokens if dec else 0, out_tokens),
            latency_ms=latency * 1000.0,
            attempts=max(self._record.attempts, 1),
            cost_usd=cost,
            request_id=last.request_id,
            stop_reason=dec.stop_reason if dec else None,
        )


async def _skipping(
    gen: AsyncIterator[str], first: str | None, skip: str
) -> AsyncIterator[str]:
    """
    The continuation's deltas, minus the white space the prefill had to drop.
    """
    pending = skip

    def cut(delta: str) -> str:
        nonlocal pending
        n = 0
        while n < len(delta) and n < len(pending) and delta[n] == pending[n]:
            n += 1
        pending = "" if n < len(pending) and n < len(delta) else pending[n:]
        return delta[n:]

    if first is not None:
        rest = cut(first)
        if rest:
            yield rest
    async for delta in gen:
        rest = cut(delta) if pending else delta
        if rest:
            yield rest


async def _past_prefix(
    gen: AsyncIterator[str], first: str | None, partial: str, name: str
) -> AsyncIterator[str]:
    """
    Read a restarted answer until it covers ``partial``; continue past it or give up.
    """
    buf = first or ""
    while len(buf) < len(partial):
        try:
            buf += await gen.__anext__()
        except StopAsyncIteration:
            break
    if not buf.startswith(partial):
        await gen.aclose()  # type: ignore[attr-defined]
        raise StreamInterruptedError(
            f"provider {name!r} restarted the answer differently; cannot continue it",
            partial_text=partial,
            provider=name,
        )
    return _chain(buf[len(partial) :], gen)


async def _chain(head: str, gen: AsyncIterator[str]) -> AsyncIterator[str]:
    if head:
        yield head
    async for delta in gen:
        yield delta
