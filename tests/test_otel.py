"""
OpenTelemetry: the span tree, attributes and metrics of calls, with no key or content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from holysheep_client import (
    AsyncClient,
    BreakerConfig,
    Client,
    ClientConfig,
    HedgingConfig,
    ProviderConfig,
    RetryConfig,
)
from holysheep_client.otel import METRICS, OpenTelemetryHook
from holysheep_client.testing import FakeProvider, Fault

KEY = "sk-otel-SECRET-9f8e7d6c"
PROMPT = "my card number is 4111-CONTENT-PROMPT"
REPLY = "the CONTENT-REPLY text"


@dataclass
class Otel:
    """In-memory exporters around a hook."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    hook: OpenTelemetryHook

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self) -> dict[str, list[Any]]:
        data = self.metrics.get_metrics_data()
        out: dict[str, list[Any]] = {}
        assert data is not None
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out


def make_otel(*, capture_content: bool = False) -> Otel:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    hook = OpenTelemetryHook(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        capture_content=capture_content,
    )
    return Otel(exporter, reader, hook)


@pytest.fixture
def otel() -> Otel:
    """A hook exporting to in-memory span and metric stores."""
    return make_otel()


def two_providers(**extra: Any) -> ClientConfig:
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="primary",
                base_url="http://a.localhost/v1",
                api_key=KEY,
                weight=100,
            ),
            ProviderConfig(
                name="backup",
                base_url="http://b.localhost/v1",
                api_key=KEY,
                weight=0,
                protocol="openai",
            ),
        ],
        retry=RetryConfig(max_attempts=2, initial_backoff=0.001, max_backoff=0.002),
        rate_limit=None,
        **extra,
    )


def failing_primary() -> dict[str, Any]:
    bad = FakeProvider(api_key=KEY, faults=[Fault("status", status=503)])
    good = FakeProvider(api_key=KEY, reply=REPLY)
    return {"primary": bad.async_transport(), "backup": good.async_transport()}


def everything(otel: Otel) -> str:
    """Every attribute, event and metric attribute value, as one string."""
    parts: list[str] = []
    for span in otel.finished():
        parts.append(span.name)
        parts.append(json.dumps(dict(span.attributes or {}), default=str))
        for event in span.events:
            parts.append(json.dumps(dict(event.attributes or {}), default=str))
        parts.append(str(span.status.description))
    for points in otel.points().values():
        for point in points:
            parts.append(json.dumps(dict(point.attributes or {}), default=str))
    return "\n".join(parts)


async def chat(client: AsyncClient) -> Any:
    return await client.chat(
        messages=[{"role": "user", "content": PROMPT}], model="deepseek-v3.2"
    )


@pytest.mark.anyio
async def test_retry_and_failover_span_tree(otel: Otel) -> None:
    """A call with a retry and a failover is one CLIENT span with three attempt children."""
    async with AsyncClient(
        two_providers(), hooks=[otel.hook], transports=failing_primary()
    ) as client:
        r = await chat(client)
    assert r.provider == "backup"
    spans = otel.finished()
    calls = [s for s in spans if s.name == "chat deepseek-v3.2"]
    assert len(calls) == 1
    call = calls[0]
    assert call.kind is SpanKind.CLIENT
    assert call.parent is None
    attempts = [s for s in spans if s is not call]
    assert len(attempts) == 3
    assert call.context is not None
    for span in attempts:
        assert span.parent is not None
        assert span.parent.span_id == call.context.span_id
        assert span.context is not None
        assert span.context.trace_id == call.context.trace_id
        assert span.start_time is not None and call.start_time is not None
        assert span.start_time >= call.start_time
    a = sorted(attempts, key=lambda s: s.start_time or 0)
    assert [s.attributes["holysheep.provider"] for s in a if s.attributes] == [
        "primary",
        "primary",
        "backup",
    ]
    assert [s.attributes["holysheep.attempt"] for s in a if s.attributes] == [1, 2, 1]
    assert a[0].attributes is not None and a[1].attributes is not None
    assert a[0].attributes["http.response.status_code"] == 503
    assert a[0].attributes["error.type"] == "503"
    assert a[0].status.status_code is StatusCode.ERROR
    assert "holysheep.retry.reason" not in a[0].attributes
    assert a[1].attributes["holysheep.retry.reason"]
    assert a[2].attributes is not None
    assert a[2].attributes["holysheep.failover.hop"] == 1
    assert a[2].attributes["http.response.status_code"] == 200


@pytest.mark.anyio
async def test_call_span_attributes(otel: Otel) -> None:
    """The call span carries the GenAI attributes and ours."""
    async with AsyncClient(
        two_providers(), hooks=[otel.hook], transports=failing_primary()
    ) as client:
        r = await chat(client)
    call = next(s for s in otel.finished() if s.name.startswith("chat "))
    attrs = dict(call.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "deepseek-v3.2"
    assert attrs["gen_ai.response.model"] == r.model
    assert attrs["gen_ai.usage.input_tokens"] == r.usage.input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == r.usage.output_tokens
    assert attrs["gen_ai.response.finish_reasons"] == (r.stop_reason,)
    assert attrs["holysheep.provider"] == "backup"
    assert attrs["holysheep.attempts"] == 3
    assert attrs["holysheep.failovers"] == 1
    assert attrs["holysheep.migration.arm"] == "primary"
    assert attrs["holysheep.cost_usd"] == pytest.approx(r.cost_usd)
    assert call.status.status_code is StatusCode.UNSET
    assert [e.name for e in call.events] == ["holysheep.retry"]


@pytest.mark.anyio
async def test_metrics_for_retry_and_failover(otel: Otel) -> None:
    """Duration, token usage, attempts, retries, failovers and cost are recorded."""
    async with AsyncClient(
        two_providers(), hooks=[otel.hook], transports=failing_primary()
    ) as client:
        r = await chat(client)
    points = otel.points()
    (duration,) = points["gen_ai.client.operation.duration"]
    assert duration.count == 1
    assert duration.attributes["gen_ai.request.model"] == "deepseek-v3.2"
    assert duration.attributes["holysheep.provider"] == "backup"
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in points["gen_ai.client.token.usage"]
    }
    assert tokens == {"input": r.usage.input_tokens, "output": r.usage.output_tokens}
    assert sum(p.value for p in points["holysheep.client.attempts"]) == 3
    assert sum(p.value for p in points["holysheep.client.retries"]) == 1
    (failover,) = points["holysheep.client.failovers"]
    assert failover.value == 1
    assert failover.attributes["holysheep.provider"] == "backup"
    (cost,) = points["holysheep.client.cost"]
    assert cost.value == pytest.approx(r.cost_usd)
    assert set(points) <= set(METRICS)


@pytest.mark.anyio
async def test_no_key_or_content_anywhere(otel: Otel) -> None:
    """Neither the key nor the prompt nor the answer appears in spans or metrics."""
    async with AsyncClient(
        two_providers(), hooks=[otel.hook], transports=failing_primary()
    ) as client:
        await chat(client)
        async with client.stream(
            messages=[{"role": "user", "content": PROMPT}], model="deepseek-v3.2"
        ) as s:
            await s.get_final_response()
    text = everything(otel)
    assert KEY not in text
    assert "CONTENT" not in text


@pytest.mark.anyio
async def test_capture_content_opt_in() -> None:
    """With capture_content the messages and the answer are recorded, the key still not."""
    otel = make_otel(capture_content=True)
    async with AsyncClient(
        two_providers(), hooks=[otel.hook], transports=failing_primary()
    ) as client:
        await chat(client)
    call = next(s for s in otel.finished() if s.name.startswith("chat "))
    attrs = dict(call.attributes or {})
    assert PROMPT in str(attrs["gen_ai.input.messages"])
    assert REPLY in str(attrs["gen_ai.output.messages"])
    assert KEY not in everything(otel)


@pytest.mark.anyio
async def test_failed_call_span_has_error_type(otel: Otel) -> None:
    """A call that fails everywhere ends its span with ERROR and the error class."""
    bad = FakeProvider(api_key=KEY, faults=[Fault("status", status=503)])
    async with AsyncClient(
        two_providers(),
        hooks=[otel.hook],
        transports={"primary": bad.async_transport(), "backup": bad.async_transport()},
    ) as client:
        with pytest.raises(Exception, match="provider"):
            await chat(client)
    call = next(s for s in otel.finished() if s.name.startswith("chat "))
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == "AllProvidersFailedError"
    (duration,) = otel.points()["gen_ai.client.operation.duration"]
    assert duration.attributes["error.type"] == "AllProvidersFailedError"


@pytest.mark.anyio
async def test_stream_span_tree_and_time_to_first_chunk(otel: Otel) -> None:
    """A stream is one call span with its attempt under it and a time-to-first-chunk."""
    async with (
        AsyncClient(
            two_providers(), hooks=[otel.hook], transports=failing_primary()
        ) as client,
        client.stream(
            messages=[{"role": "user", "content": PROMPT}], model="deepseek-v3.2"
        ) as s,
    ):
        final = await s.get_final_response()
    spans = otel.finished()
    call = next(s for s in spans if s.name.startswith("chat "))
    assert call.context is not None
    children = [
        s for s in spans if s.parent and s.parent.span_id == call.context.span_id
    ]
    assert len(children) == 3
    assert call.attributes is not None
    assert call.attributes["gen_ai.request.stream"] is True
    assert call.attributes["gen_ai.usage.output_tokens"] == final.usage.output_tokens
    assert "gen_ai.response.time_to_first_chunk" in call.attributes
    assert otel.points()["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


@pytest.mark.anyio
async def test_hedge_winner_and_metric(otel: Otel) -> None:
    """A hedged call names its winner and counts the hedge."""
    slow = FakeProvider(api_key=KEY, latency=0.3)
    fast = FakeProvider(api_key=KEY)
    async with AsyncClient(
        two_providers(hedging=HedgingConfig(delay=0.02)),
        hooks=[otel.hook],
        transports={
            "primary": slow.async_transport(),
            "backup": fast.async_transport(),
        },
    ) as client:
        r = await chat(client)
    assert r.provider == "backup"
    call = next(s for s in otel.finished() if s.name.startswith("chat "))
    assert call.attributes is not None
    assert call.attributes["holysheep.hedge.winner"] == "backup"
    assert sum(p.value for p in otel.points()["holysheep.client.hedges"]) == 1


@pytest.mark.anyio
async def test_breaker_transitions_are_counted(otel: Otel) -> None:
    """Breaker transitions are counted and the state shows on later attempts."""
    bad = FakeProvider(api_key=KEY, faults=[Fault("status", status=503)])
    good = FakeProvider(api_key=KEY)
    async with AsyncClient(
        two_providers(circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=60)),
        hooks=[otel.hook],
        transports={"primary": bad.async_transport(), "backup": good.async_transport()},
    ) as client:
        await chat(client)
        await chat(client)
    (point,) = otel.points()["holysheep.client.breaker.transitions"]
    assert point.attributes["holysheep.breaker.state"] == "open"
    assert point.attributes["holysheep.provider"] == "primary"


def test_sync_client_span_tree(otel: Otel) -> None:
    """The synchronous client produces the same tree."""
    bad = FakeProvider(api_key=KEY, faults=[Fault("status", status=503)])
    good = FakeProvider(api_key=KEY)
    with Client(
        two_providers(),
        hooks=[otel.hook],
        transports={"primary": bad.sync_transport(), "backup": good.sync_transport()},
    ) as client:
        client.chat(messages=[{"role": "user", "content": PROMPT}], model="m")
        with client.stream(
            messages=[{"role": "user", "content": PROMPT}], model="m"
        ) as s:
            s.get_final_response()
    spans = otel.finished()
    calls = [s for s in spans if s.name == "chat m"]
    assert len(calls) == 2
    for call in calls:
        assert call.context is not None
        kids = [
            s for s in spans if s.parent and s.parent.span_id == call.context.span_id
        ]
        assert len(kids) == 3


@pytest.mark.anyio
async def test_no_sdk_records_nothing_and_works() -> None:
    """With the API's no-op providers the hook costs nothing visible and never fails."""
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    hook = OpenTelemetryHook(
        tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider()
    )
    async with AsyncClient(
        two_providers(), hooks=[hook], transports=failing_primary()
    ) as client:
        r = await chat(client)
    assert r.text == REPLY
    assert "capture_content=False" in repr(hook)


@pytest.mark.anyio
async def test_attempts_outside_a_call_still_get_spans(otel: Otel) -> None:
    """Requests through http_client() (the official SDKs' path) get root attempt spans."""
    good = FakeProvider(api_key=KEY)
    async with AsyncClient(
        two_providers(),
        hooks=[otel.hook],
        transports={"primary": good.async_transport()},
    ) as client:
        await client.models("primary")
    (span,) = otel.finished()
    assert span.name == "GET primary"
    assert span.parent is None


GLOBAL_SCRIPT = """
import asyncio
import time
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from holysheep_client import AsyncClient, ClientConfig, ProviderConfig
from holysheep_client.otel import GLOBALS_RECHECK, OpenTelemetryHook
from holysheep_client.testing import FakeProvider

hook = OpenTelemetryHook()  # built before any SDK is configured
config = ClientConfig(providers=[ProviderConfig(name="p", base_url="http://p.localhost/v1", api_key="k")])

async def call():
    async with AsyncClient(config, hooks=[hook], transports={"p": FakeProvider(api_key="k").async_transport()}) as c:
        await c.chat(messages=[{"role": "user", "content": "hi"}], model="m")

asyncio.run(call())
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
time.sleep(GLOBALS_RECHECK)  # the hook reads the globals again after this
asyncio.run(call())
names = sorted(s.name for s in exporter.get_finished_spans())
print(names, reader.get_metrics_data() is not None)
"""


def test_global_providers_configured_later() -> None:
    """A hook built before the SDK records nothing until the global providers are set."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", GLOBAL_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "['POST p', 'chat m'] True"
