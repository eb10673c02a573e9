"""
OpenTelemetry to the console: the span tree and metrics of a call with a retry and a failover.

The primary provider answers 503, so the call is retried once there, then fails over
to the backup; the console exporter prints one CLIENT call span with three attempt
spans under it, and the metric reader prints duration, tokens, retries and cost.
Neither the key nor the prompt appears in any of it.
"""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from holysheep_client import AsyncClient, ClientConfig, ProviderConfig, RetryConfig
from holysheep_client.otel import OpenTelemetryHook
from holysheep_client.testing import FakeProvider, Fault


async def main() -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    reader = InMemoryMetricReader()
    hook = OpenTelemetryHook(
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[reader]),
    )
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="primary",
                base_url="http://a.localhost/v1",
                api_key="k",
                weight=100,
            ),
            ProviderConfig(
                name="backup", base_url="http://b.localhost/v1", api_key="k", weight=0
            ),
        ],
        retry=RetryConfig(max_attempts=2, initial_backoff=0.01, max_backoff=0.02),
    )
    failing = FakeProvider(api_key="k", faults=[Fault("status", status=503)])
    healthy = FakeProvider(api_key="k")
    async with AsyncClient(
        config,
        hooks=[hook],
        transports={
            "primary": failing.async_transport(),
            "backup": healthy.async_transport(),
        },
    ) as client:
        r = await client.chat(
            messages=[{"role": "user", "content": "Hello"}], model="deepseek-v3.2"
        )
    print(f"answered by {r.provider} after {r.attempts} attempts")
    data = reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "sum", getattr(point, "value", None))
                    print(
                        f"{metric.name} [{metric.unit}] = {value} {dict(point.attributes or {})}"
                    )


if __name__ == "__main__":
    asyncio.run(main())
