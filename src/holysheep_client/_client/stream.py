"""
StreamMachine: the one state machine both stream classes feed. No I/O.

The shells (`AsyncChatStream`, `ChatStream`) send, read chunks and yield; every
decision is made here: the bound of each read (the first event by ``first_token``,
then ``stream_idle`` between chunks), decoding, the breaker's verdict on the body,
what a break means (raise, or resume on another provider, with the filters that
keep the caller's text seamless), and the final response.

A stream is a list of segments, one per provider that served a part of it: one,
unless it was resumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .._content.blocks import TextBlock
from .._content.events import StreamEvent, TextDelta, ThinkingDelta
from .._models import ChatResponse
from .._observe.details import RouteDecision
from .._protocols import ChatRequestSpec, StreamDecoder
from .._resilience.tokens import TokenReservation
from .._transports.extensions import EXT_FIRST_BY, EXT_TOKEN_RESERVATION
from .._transports.observed import ObservedStream, observed
from ..errors import APIConnectionError, StreamInterruptedError
from .hops import calls_tools
from .resume import PrefixFilter, ResumePlan, SkipFilter, resume_messages

if TYPE_CHECKING:
    import httpx2

    from .base import BaseClient
    from .call import Call

__all__ = ["MemoryBody", "Segment", "StreamMachine"]


class MemoryBody:
    """
    A body already in memory (a test transport's), read like an `ObservedStream`.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def _next(self) -> bytes | None:
        data, self._data = self._data, None
        return data or None

    async def read_async(self, deadline: float | None = None) -> bytes | None:
        """The body, then ``None``."""
        return self._next()

    def read_sync(self, deadline: float | None = None) -> bytes | None:
        """The body, then ``None``."""
        return self._next()

    def defer(self) -> None:
        """Nothing to defer: the body was judged when it was read."""

    def settle(self, outcome: bool | None) -> None:
        """Nothing to settle."""


@dataclass(slots=True)
class Segment:
    """
    One provider's part of a stream.

    Attributes:
        provider: Who served it.
        sent_model: The model id sent to that provider.
        response: Its HTTP response (the shell closes it).
        body: Its body, read chunk by chunk.
        decoder: The protocol's stream decoder.
        request_id: The provider's request id.
        first_by: Its first event is due by this time (``first_token``).
        pending: Events decoded and not yet given to the caller.
        started: It sent its first event.
        done: It ended well (end marker or finish reason).
        filter: Keeps a resumed continuation seamless.
        reservation: Its tokens reserved of the provider's ``tokens_per_minute``.
    """

    provider: str
    sent_model: str
    response: httpx2.Response
    body: ObservedStream | MemoryBody
    decoder: StreamDecoder
    request_id: str | None = None
    first_by: float | None = None
    pending: list[StreamEvent] = field(default_factory=list)
    started: bool = False
    done: bool = False
    filter: SkipFilter | PrefixFilter | None = None
    reservation: TokenReservation | None = None


class StreamMachine:
    """
    The decisions of one stream; see the module docstring.

    Args:
        client: The client's I/O-free base.
        call: The stream's call.
        resume: Continue a broken stream on another provider.
    """

    def __init__(self, client: BaseClient[Any], call: Call, *, resume: bool) -> None:
        self._client = client
        self.call = call
        self._resume = resume
        self._idle = call.timeout.stream_idle
        self.delivered: list[str] = []
        self.tooled = False  # a tool-call event reached the caller
        self.segments: list[Segment] = []
        self.ttft: float | None = None
        self.final: ChatResponse | None = None

    # -- a segment's life ------------------------------------------------------------

    def begin(
        self,
        name: str,
        sent_model: str,
        request: httpx2.Request,
        response: httpx2.Response,
        flt: SkipFilter | PrefixFilter | None = None,
    ) -> Segment:
        """
        A hop answered 2xx: its segment starts (not yet the stream's, see `commit`).
        """
        body: ObservedStream | MemoryBody | None = observed(response)
        if body is None:
            body = MemoryBody(response.content)
        body.defer()  # the verdict is ours: the end marker, not the last byte
        h = response.headers
        return Segment(
            provider=name,
            sent_model=sent_model,
            response=response,
            body=body,
            decoder=self._client._protocols[name].stream_decoder(
                provider=name, output=self.call.spec.output
            ),
            request_id=h.get("request-id") or h.get("x-request-id"),
            first_by=request.extensions.get(EXT_FIRST_BY),
            filter=flt,
            reservation=request.extensions.get(EXT_TOKEN_RESERVATION),
        )

    def read_deadline(self, seg: Segment) -> float | None:
        """
        The absolute deadline of the next read of ``seg``.
        """
        if not seg.started:
            return seg.first_by
        idle = self._idle
        return None if idle is None else self._client._clock.monotonic() + idle

    def feed(self, seg: Segment, chunk: bytes) -> None:
        """
        Decode a chunk of ``seg``; its events wait in ``seg.pending``.

        Raises:
            APIConnectionError: A malformed event (the breaker counts a failure).
            APIError: An in-stream error event.
            StreamInterruptedError: A restarted answer differs from the delivered text.
        """
        try:
            events = seg.decoder.feed(chunk)
        except Exception:
            seg.body.settle(False)
            raise
        if events:
            seg.started = True
            flt = seg.filter
            if flt is None:
                if seg.pending:
                    seg.pending += events
                else:
                    seg.pending = events  # a fresh list from the decoder: no copy
            else:
                for event in events:
                    if type(event) is TextDelta:
                        text = flt.feed(event.text)
                        if text == event.text:
                            seg.pending.append(event)  # built once, passed on as is
                        elif text:
                            seg.pending.append(TextDelta(text))
                    else:
                        seg.pending.append(event)
        if seg.decoder.ended:
            self._ended(seg)

    def eof(self, seg: Segment) -> None:
        """
        ``seg``'s body ended: complete with an end marker or a finish reason.

        Raises:
            APIConnectionError: Neither came: the stream broke.
        """
        if seg.decoder.ended or seg.decoder.stop_reason is not None:
            self._ended(seg)
            return
        seg.body.settle(False)
        raise APIConnectionError(
            f"provider {seg.provider!r} ended the stream without an end marker",
            provider=seg.provider,
        )

    def _ended(self, seg: Segment) -> None:
        if seg.filter is not None:
            seg.filter.end()
        seg.done = True
        if seg.reservation is not None:
            u = seg.decoder.usage
            seg.reservation.settle(u.input_tokens + u.output_tokens)
        seg.body.settle(True)

    def opened(self, seg: Segment) -> bool:
        """
        Whether ``seg`` may be handed to the caller: it sent its first event or ended.
        """
        return seg.started or seg.done

    def commit(self, seg: Segment) -> None:
        """
        ``seg`` won its hop (failover or race): it is the stream's now.
        """
        self.segments.append(seg)

    def take(self, seg: Segment) -> list[StreamEvent]:
        """
        The events of ``seg`` to give the caller now.
        """
        out = seg.pending
        if not out:
            return out
        seg.pending = []
        if self.ttft is None:
            self.ttft = self._client._clock.monotonic() - self.call.started
        delivered = self.delivered
        for event in out:
            if type(event) is TextDelta:
                delivered.append(event.text)
            elif type(event) is not ThinkingDelta:
                self.tooled = True
        return out

    # -- breaks ----------------------------------------------------------------------

    def broke(self, seg: Segment, error: BaseException) -> ResumePlan:
        """
        ``seg`` broke after the caller got deltas: how to go on.

        Raises:
            StreamInterruptedError: Without ``resume=True`` (or when the break is
                itself final), carrying the text delivered so far.
        """
        client = self._client
        client._counters.count(seg.provider, ok=False)
        partial = "".join(self.delivered)
        if isinstance(error, StreamInterruptedError):
            raise error
        if not self._resume or self.tooled or seg.decoder.in_tool_call:
            # A prefill can only carry text: a tool call cannot be continued.
            raise StreamInterruptedError(
                f"the stream from provider {seg.provider!r} broke after"
                f" {len(partial)} characters ({type(error).__name__})",
                partial_text=partial,
                provider=seg.provider,
            ) from error
        prefill, skip = resume_messages(self.call.spec, partial)
        states = client._state.providers
        return ResumePlan(
            spec=self.call.spec,
            prefill=prefill,
            skip=skip,
            partial=partial,
            failed=seg.provider,
            candidates=tuple(
                n
                for n in self.call.plan
                if n != seg.provider and states[n].breaker.state != "open"
            ),
            cause=error,
        )

    def resuming(self, plan: ResumePlan, name: str) -> bool:
        """
        About to continue on ``name``: False once the call's deadline has passed.
        """
        call = self.call
        if (
            call.deadline is not None
            and self._client._clock.monotonic() >= call.deadline
        ):
            return False
        self._client._hooks.route(
            RouteDecision(name, len(self.segments), "resume", type(plan.cause).__name__)
        )
        return True

    def adopt(self, spec: ChatRequestSpec) -> None:
        """
        The request that opened the stream (a context fallback may have changed it).
        """
        self.call.spec = spec

    # -- the end ---------------------------------------------------------------------

    def finish(self) -> ChatResponse:
        """
        The whole answer, priced over every segment, checked, and counted.

        Raises:
            OutputValidationError: With ``response_format``, an answer that does not
                match it (the caller has seen the text: it cannot be asked again).
        """
        client = self._client
        last = self.segments[-1]
        dec = last.decoder
        cost: float | None = 0.0
        out_tokens = 0
        for seg in self.segments:
            u = seg.decoder.usage
            out_tokens += u.output_tokens
            c = client._hops.prices.cost(seg.sent_model, u)
            cost = None if c is None or cost is None else cost + c
        text = "".join(self.delivered)
        content = dec.content if len(self.segments) == 1 else (TextBlock(text),)
        output = self.call.spec.output
        value = (
            None
            if output is None or calls_tools(content)
            else client._hops.checked(last.provider, output, text)
        )
        latency = client._clock.monotonic() - self.call.started
        client._counters.count(last.provider, ok=True, cost=cost)
        self.final = ChatResponse(
            text=text,
            model=dec.model or last.sent_model,
            provider=last.provider,
            usage=replace(dec.usage, output_tokens=out_tokens),
            latency_ms=latency * 1000.0,
            attempts=max(self.call.record.attempts, 1),
            cost_usd=cost,
            request_id=last.request_id,
            stop_reason=dec.stop_reason,
            content=content,
            parsed=value,
        )
        return self.final
