"""
Telemetry on by default: with a global TracerProvider and MeterProvider set and no
``hooks`` argument, each call of either client yields its CLIENT span with the GenAI
attributes (the protocol as ``gen_ai.provider.name``, tags as ``holysheep.tag.*``)
and its metrics; ``telemetry=False`` records nothing.

Global providers can be set once per process, so the calls run in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import asyncio, json
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from holysheep_client import AsyncClient, Client, ClientConfig, ProviderConfig
from holysheep_client.testing import FakeProvider

exporter = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

config = ClientConfig(providers=[ProviderConfig(
    name="relay", base_url="http://relay.localhost/v1", api_key="k", protocol="anthropic")])
ask = dict(messages=[{"role": "user", "content": "hi"}], model="m", tags={"tenant": "acme"})
fake = FakeProvider(api_key="k")
out = {}

async def run_async(**kw):
    async with AsyncClient(config, transports={"relay": fake.async_transport()}, **kw) as c:
        await c.chat(**ask)

def spans():
    got = [
        {"name": s.name, "kind": s.kind.name, "root": s.parent is None,
         "attrs": {k: v for k, v in (s.attributes or {}).items()
                   if k.startswith(("gen_ai.", "holysheep.tag.", "holysheep.provider"))}}
        for s in exporter.get_finished_spans()
    ]
    exporter.clear()
    return got

def points():
    data = reader.get_metrics_data()
    return sorted({m.name for rm in data.resource_metrics for sm in rm.scope_metrics
                   for m in sm.metrics}) if data else []

asyncio.run(run_async())
out["async"] = spans()
with Client(config, transports={"relay": fake.sync_transport()}) as c:
    c.chat(**ask)
out["sync"] = spans()
out["metrics"] = points()
asyncio.run(run_async(telemetry=False))
with Client(config, transports={"relay": fake.sync_transport()}, telemetry=False) as c:
    c.chat(**ask)
out["off"] = spans()
print(json.dumps(out))
"""


def test_global_providers_instrument_a_client_built_without_hooks() -> None:
    """One call span each (async, sync), GenAI attributes on it, nothing when off."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    out = json.loads(run.stdout)
    for kind in ("async", "sync"):
        calls = [s for s in out[kind] if "gen_ai.operation.name" in s["attrs"]]
        assert len(calls) == 1, (kind, out[kind])
        (call,) = calls
        assert call["name"] == "chat m" and call["kind"] == "CLIENT" and call["root"]
        attrs = call["attrs"]
        assert attrs["gen_ai.provider.name"] == "anthropic", "the kind, not the name"
        assert attrs["holysheep.provider"] == "relay"
        assert attrs["gen_ai.request.model"] == "m"
        assert attrs["gen_ai.usage.input_tokens"] > 0
        assert attrs["holysheep.tag.tenant"] == "acme"
        others = [s for s in out[kind] if s is not call]
        assert others and all(not s["root"] for s in others), "attempts are children"
    assert "gen_ai.client.operation.duration" in out["metrics"]
    assert out["off"] == []
