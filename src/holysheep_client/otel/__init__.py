"""
OpenTelemetry spans and metrics for holysheep_client calls.

This is the only module that imports OpenTelemetry, and it needs only the API:
without a configured SDK the API's no-op tracer and meter keep the cost near zero.

```python
from holysheep_client import AsyncClient
from holysheep_client.otel import OpenTelemetryHook

client = AsyncClient(config, hooks=[OpenTelemetryHook()])
```

Spans: one CLIENT span per call, named ``chat {model}``, with the GenAI semantic
convention attributes, and one child span per HTTP attempt directly under it.
Metrics: see `METRICS`. No attribute ever holds a key; message content is
recorded only with ``capture_content=True``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import metrics, trace
from opentelemetry.metrics import (
    Meter,
    MeterProvider,
    NoOpMeterProvider,
    get_meter,
)
from opentelemetry.trace import (
    NoOpTracerProvider,
    SpanKind,
    Status,
    StatusCode,
    TracerProvider,
)

from .._observe.details import (
    AttemptDetails,
    BreakerTransition,
    GateDetails,
    RateLimitWaitDetails,
    RequestDetails,
    RetryDetails,
    RouteDecision,
    ShadowDetails,
)
from .._observe.hooks import BaseHook
from ._metrics import METRICS, CallInstruments, api_only
from ._migration import MigrationInstruments
from ._scope import CURRENT, NO_CALL_SPAN, CallSpan, NoCallSpan, message_attribute

__all__ = ["GLOBALS_RECHECK", "METRICS", "OpenTelemetryHook"]

#: Seconds the hook keeps its reading of whether the global providers are an SDK's:
#: a provider set after the hook was built is followed within this time.
GLOBALS_RECHECK = 1.0


#: The instruments this module records, name -> (unit, description).
class OpenTelemetryHook(BaseHook):
    """
    A `ClientHook` that turns a client's details into OpenTelemetry spans and metrics.

    Pass it to a client: ``AsyncClient(config, hooks=[OpenTelemetryHook()])``.
    Spans and metrics go through the global tracer and meter providers unless
    others are passed; with only the OpenTelemetry API installed they cost almost
    nothing. Global providers set after the hook was built are followed within
    `GLOBALS_RECHECK` seconds.

    Args:
        tracer_provider: The tracer provider (the global one by default).
        meter_provider: The meter provider (the global one by default).
        capture_content: Also record the messages and the answer text as
            ``gen_ai.input.messages`` / ``gen_ai.output.messages``. Off by default:
            prompts and answers often hold personal data.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        capture_content: bool = False,
    ) -> None:
        from .. import __version__

        self.capture_content = capture_content
        # None: follow the global provider, which may be configured later.
        self._tracing: bool | None = (
            None
            if tracer_provider is None
            else not isinstance(tracer_provider, NoOpTracerProvider)
        )
        self._metering: bool | None = (
            None
            if meter_provider is None
            else not isinstance(meter_provider, NoOpMeterProvider)
        )
        if tracer_provider is None and "OTEL_PYTHON_TRACER_PROVIDER" in os.environ:
            trace.get_tracer_provider()  # sets the global from the environment
        if meter_provider is None and "OTEL_PYTHON_METER_PROVIDER" in os.environ:
            metrics.get_meter_provider()
        self._tracer = trace.get_tracer(
            "holysheep_client", __version__, tracer_provider=tracer_provider
        )
        meter: Meter = get_meter(
            "holysheep_client", __version__, meter_provider=meter_provider
        )
        self._global = (False, False)
        self._recheck = 0.0
        self._breakers: dict[str, str] = {}
        self._m = CallInstruments(meter)
        self._migration = MigrationInstruments(meter)

    def _traces(self) -> bool:
        # Without an SDK the global provider is the API's proxy (or a no-op): then
        # every span would be a no-op, and skipping them keeps the cost near zero.
        if self._tracing is not None:
            return self._tracing
        return self._globals()[0]

    def _meters(self) -> bool:
        if self._metering is not None:
            return self._metering
        return self._globals()[1]

    def _globals(self) -> tuple[bool, bool]:
        # Asking the API for the global providers reads os.environ while none is
        # set (microseconds, four times a call): the answer is kept for a second.
        now = time.monotonic()
        if now >= self._recheck:
            self._global = (
                not api_only(trace.get_tracer_provider()),
                not api_only(metrics.get_meter_provider()),
            )
            self._recheck = now + GLOBALS_RECHECK
        return self._global

    def __repr__(self) -> str:
        return f"<OpenTelemetryHook capture_content={self.capture_content}>"

    # -- the call scope --------------------------------------------------------------

    def call_scope(
        self,
        operation: str,
        model: str,
        *,
        messages: Sequence[Mapping[str, Any]],
        stream: bool,
    ) -> CallSpan | NoCallSpan:
        """
        Start the call's CLIENT span ``{operation} {model}``.

        Args:
            operation: ``"chat"``.
            model: The model id or alias the caller asked for.
            messages: The request's messages (recorded only with ``capture_content``).
            stream: Whether the call streams.

        Returns:
            The scope the client attaches while the call's attempts run.
        """
        if not self._traces():
            return NO_CALL_SPAN
        span = self._tracer.start_span(
            f"{operation} {model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": operation,
                "gen_ai.request.model": model,
                "gen_ai.request.stream": stream,
            },
        )
        if not span.is_recording():
            return NO_CALL_SPAN
        if self.capture_content:
            span.set_attribute(
                "gen_ai.input.messages",
                json.dumps([message_attribute(m) for m in messages]),
            )
        return CallSpan(span, self.capture_content)

    # -- details -----------------------------------------------------------------------

    def on_attempt(self, details: AttemptDetails) -> None:
        """
        Record the attempt as a child span of the call, with its real start and end.
        """
        d = details
        call = CURRENT.get()
        meters = self._meters()
        traces = call is not None or self._traces()
        if not meters and not traces:
            return
        outcome = d.error or (
            str(d.status_code)
            if d.status_code is not None and d.status_code >= 400
            else None
        )
        attrs: dict[str, Any] = {"holysheep.provider": d.provider}
        if outcome is not None:
            attrs["error.type"] = outcome
        if meters:
            self._m.attempts.add(1, attrs)
        if not traces:
            return
        start = int(d.started_at.timestamp() * 1e9)
        span = self._tracer.start_span(
            f"{d.method} {d.provider}",
            context=call.context if call is not None else None,
            kind=SpanKind.CLIENT,
            start_time=start,
        )
        if span.is_recording():
            attrs["holysheep.attempt"] = d.attempt
            attrs["http.request.method"] = d.method
            attrs["holysheep.breaker.state"] = self._breakers.get(d.provider, "closed")
            url = urlsplit(d.url)
            if url.hostname:
                attrs["server.address"] = url.hostname
            if url.port:
                attrs["server.port"] = url.port
            if d.status_code is not None:
                attrs["http.response.status_code"] = d.status_code
            if call is not None:
                if call.primary is None:
                    call.primary = d.provider
                attrs["holysheep.failover.hop"] = call.hops.get(d.provider, 0)
                reason = call.reasons.pop(d.provider, None)
                if reason is not None:
                    attrs["holysheep.retry.reason"] = reason
            span.set_attributes(attrs)
            if outcome is not None:
                span.set_status(Status(StatusCode.ERROR, outcome))
        span.end(end_time=start + int(d.duration * 1e9))

    def on_retry(self, details: RetryDetails) -> None:
        """
        Count the retry; the next attempt span carries its reason.
        """
        self._m.retries.add(
            1,
            {
                "holysheep.provider": details.provider,
                "holysheep.retry.reason": details.reason,
            },
        )
        call = CURRENT.get()
        if call is not None:
            call.reasons[details.provider] = details.reason
            call.span.add_event(
                "holysheep.retry",
                {
                    "holysheep.provider": details.provider,
                    "holysheep.attempt": details.attempt,
                    "holysheep.retry.reason": details.reason,
                    "holysheep.retry.wait": details.wait,
                },
            )

    def on_breaker(self, details: BreakerTransition) -> None:
        """
        Count the transition and remember the state for attempt spans.
        """
        self._breakers[details.provider] = details.new_state
        self._m.transitions.add(
            1,
            {
                "holysheep.provider": details.provider,
                "holysheep.breaker.from": details.old_state,
                "holysheep.breaker.state": details.new_state,
            },
        )

    def on_rate_limit_wait(self, details: RateLimitWaitDetails) -> None:
        """
        Record how long a call waited for capacity.
        """
        attrs = {"holysheep.wait.kind": details.kind}
        if details.provider is not None:
            attrs["holysheep.provider"] = details.provider
        self._m.waits.record(details.waited, attrs)

    def on_route(self, details: RouteDecision) -> None:
        """
        Count failovers and hedges; later attempts carry the hop.
        """
        attrs: dict[str, Any] = {"holysheep.provider": details.provider}
        if details.reason == "hedge":
            self._m.hedges.add(1, attrs)
        elif details.reason == "failover":
            if details.previous_error is not None:
                attrs["error.type"] = details.previous_error
            self._m.failovers.add(1, attrs)
        call = CURRENT.get()
        if call is not None:
            call.hops[details.provider] = details.hop
            if details.reason == "hedge":
                call.hedged = True
            elif details.reason == "failover":
                call.failovers += 1

    def on_request(self, details: RequestDetails) -> None:
        """
        Record the call's metrics and its span's response attributes.
        """
        d = details
        call = CURRENT.get()
        meters = self._meters()
        if call is None and not meters:
            return
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": d.operation,
            "gen_ai.request.model": d.requested_model,
        }
        if d.provider is not None:
            attrs["holysheep.provider"] = d.provider
        if d.provider_kind is not None:
            attrs["gen_ai.provider.name"] = d.provider_kind
        if d.response_model is not None:
            attrs["gen_ai.response.model"] = d.response_model
        if d.error is not None:
            attrs["error.type"] = d.error
        if meters:
            self._m.record(d, attrs)
        if call is None:
            return
        span_attrs = dict(attrs)
        for key, value in d.tags.items():
            span_attrs[f"holysheep.tag.{key}"] = value
        span_attrs["holysheep.attempts"] = d.attempts
        span_attrs["holysheep.failovers"] = call.failovers
        if d.error is None:
            span_attrs["gen_ai.usage.input_tokens"] = d.input_tokens
            span_attrs["gen_ai.usage.output_tokens"] = d.output_tokens
            span_attrs["gen_ai.usage.cache_read.input_tokens"] = (
                d.cache_read_input_tokens
            )
            span_attrs["gen_ai.usage.cache_creation.input_tokens"] = (
                d.cache_creation_input_tokens
            )
        if d.finish_reason is not None:
            span_attrs["gen_ai.response.finish_reasons"] = [d.finish_reason]
        if d.cost_usd is not None:
            span_attrs["holysheep.cost_usd"] = d.cost_usd
        if d.time_to_first_token is not None:
            span_attrs["gen_ai.response.time_to_first_chunk"] = d.time_to_first_token
        if call.primary is not None:
            span_attrs["holysheep.migration.arm"] = call.primary
        if call.hedged and d.provider is not None:
            span_attrs["holysheep.hedge.winner"] = d.provider
        if d.provider is not None:
            span_attrs["holysheep.breaker.state"] = self._breakers.get(
                d.provider, "closed"
            )
        call.span.set_attributes(span_attrs)

    def on_gate(self, details: GateDetails) -> None:
        """Set the migration gate's gauges (see `METRICS`)."""
        if self._meters():
            self._migration.gate(details)

    def on_shadow(self, details: ShadowDetails) -> None:
        """Count a shadow call and its cost."""
        if self._meters():
            self._migration.shadow(details)
