"""
What the OpenTelemetry instrumentation costs per call: ``python -m bench otel``.

Three clients against the loopback fake provider, in interleaved rounds:
``telemetry=False``, the default (no ``hooks`` argument: instrumented through the
global providers, which are the API's no-op ones since this process configures no
SDK), and a hook with the SDK recording every span and metric (batch span
processor, a discarding exporter, an in-memory metric reader). The target: on by
default with no SDK costs at most 3% CPU per call over telemetry off.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
from collections.abc import Sequence
from typing import Any

from holysheep_client.testing import FakeServer

from ._runner import Sample, _measure, paired_ratio
from ._variants import MESSAGES, MODEL, Call, Close, Variant, bench_config

__all__ = ["TARGET", "main"]

#: The most CPU per call default-on telemetry may add without an SDK (1.03 = 3%).
TARGET = 1.03


def _chat(hooks: Any, *, telemetry: bool = True) -> Any:
    async def make(origin: str, url: str, conc: int) -> tuple[Call, Close]:
        from holysheep_client import AsyncClient

        client = AsyncClient(
            bench_config(url, conc), hooks=hooks(), telemetry=telemetry
        )

        async def call() -> Any:
            return await client.chat(messages=MESSAGES, model=MODEL, max_tokens=64)

        return call, client.aclose

    return make


def _with_sdk() -> list[Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    from holysheep_client.otel import OpenTelemetryHook

    class Discard(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return [
        OpenTelemetryHook(
            tracer_provider=tracer_provider, meter_provider=meter_provider
        )
    ]


VARIANTS = [
    Variant("off", "AsyncClient.chat, telemetry=False", _chat(list, telemetry=False)),
    Variant("default", "default: global providers, no SDK", _chat(list)),
    Variant("sdk", "+ OpenTelemetryHook, SDK recording", _chat(_with_sdk)),
]


def run(requests: int, rounds: int, concurrency: int) -> dict[str, Sample]:
    """
    Measure every variant in ``rounds`` interleaved rounds; returns the samples.
    """
    results = {v.key: Sample() for v in VARIANTS}
    with FakeServer.start() as server:
        for round_no in range(rounds):
            order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                cpu, rate = asyncio.run(
                    _measure(variant, server.origin, server.url, requests, concurrency)
                )
                results[variant.key].cpu[round_no] = cpu
                results[variant.key].rate[round_no] = rate
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print CPU per call for each variant and the ratios; 1 when the target is missed.
    """
    parser = argparse.ArgumentParser(prog="python -m bench otel", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per variant, round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args(argv)
    logging.getLogger("holysheep_client").setLevel(logging.ERROR)
    results = run(args.requests, args.rounds, args.concurrency)
    plain = results["off"]
    print(f"{'variant':38} {'CPU us/call':>11} {'vs off':>10}")
    for variant in VARIANTS:
        sample = results[variant.key]
        ratio = paired_ratio(sample, plain)
        print(
            f"{variant.label:38} {statistics.median(sample.cpu.values()) * 1e6:>11.0f}"
            f" {'-' if ratio is None else f'{ratio:.3f}x':>10}"
        )
    overhead = paired_ratio(results["default"], plain)
    ok = overhead is not None and overhead <= TARGET
    print(
        f"\ndefault-on without an SDK / telemetry off: {overhead or 0:.3f}"
        f"  target <= {TARGET}  {'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
