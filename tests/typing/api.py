"""
Type-checked uses of the public API that never run: mypy catches signature changes.
"""

from __future__ import annotations

from holysheep_client import (
    AsyncClient,
    ChatResponse,
    Client,
    ClientConfig,
    Health,
    PoolConfig,
    ProviderConfig,
    build_http_client,
)


def _pools() -> tuple[PoolConfig, PoolConfig]:
    return PoolConfig(backend="aiohttp"), PoolConfig(backend="httpcore", http2=True)


async def _async_use(config: ClientConfig) -> None:
    async with AsyncClient(config) as client:
        r: ChatResponse = await client.chat(
            messages=[{"role": "user", "content": "x"}],
            model="deepseek-v3.2",
            max_tokens=10,
            temperature=0.7,
            route_key=None,
        )
        _: tuple[
            str, str, str, int, int, float, int, float | None, str | None, str | None
        ] = (
            r.text,
            r.model,
            r.provider,
            r.usage.input_tokens,
            r.usage.output_tokens,
            r.latency_ms,
            r.attempts,
            r.cost_usd,
            r.request_id,
            r.stop_reason,
        )
        async with client.stream(
            messages=[{"role": "user", "content": "x"}], model="m", resume=True
        ) as s:
            async for delta in s.text_stream:
                _d: str = delta
            final: ChatResponse = await s.get_final_response()
        models: list[str] = await client.models(provider="holysheep")
        tokens: int = await client.count_tokens(
            [{"role": "user", "content": "x"}], model="m", provider="holysheep"
        )
        await client.verify()
        h: Health = client.health()
        client.set_weights({"legacy": 75, "holysheep": 25})
        http = client.http_client("holysheep")
        await http.aclose()
        del final, models, tokens, h


def _sync_use(config: ClientConfig) -> None:
    with Client(config) as client:
        r: ChatResponse = client.chat(
            messages=[{"role": "user", "content": "x"}], model="m"
        )
        with client.stream(messages=[{"role": "user", "content": "x"}], model="m") as s:
            for _delta in s.text_stream:
                pass
            s.get_final_response()
        n: int = client.count_tokens([{"role": "user", "content": "x"}], model="m")
        del r, n
    http = build_http_client(config, provider="holysheep")
    sync_http = build_http_client(config, provider="holysheep", sync=True)
    plain = build_http_client(config, provider="holysheep", flavor="httpx")
    del http, sync_http, plain


_cfg = ClientConfig(
    providers=[
        ProviderConfig(
            name="holysheep", base_url="https://api.holysheep.ai/v1", api_key="k"
        )
    ]
)


def _migration_gate_use() -> None:
    from holysheep_client import (
        GateConfig,
        GateDetails,
        GateStatus,
        MigrationConfig,
        MigrationPhase,
        ShadowConfig,
        ShadowDetails,
        ShadowStatus,
    )

    def agree(source: ChatResponse, target: ChatResponse) -> float:
        return 1.0 if source.text == target.text else 0.0

    m = MigrationConfig(
        source="legacy",
        target="holysheep",
        phases=[MigrationPhase(name="dark", duration="24h", weight=0)],
        gate=GateConfig(
            max_error_rate=0.02, max_latency_p95=2.0, min_agreement=0.95,
            max_cost_ratio=None, min_samples=200, window=3600.0, on_fail="hold",
        ),
        shadow=ShadowConfig(sample=0.05, comparator=agree, max_in_flight=8),
    )  # fmt: skip
    del m
    status = Health(ready=True, providers={}).migration
    if status is not None:
        gate: GateStatus | None = status.gate
        shadow: ShadowStatus | None = status.shadow
        if gate is not None:
            _g: tuple[bool, list[str], int, float | None] = (
                gate.passing, gate.failing, gate.samples, gate.agreement
            )  # fmt: skip
        if shadow is not None:
            _s: tuple[int, int, int, float] = (
                shadow.sent, shadow.skipped, shadow.failed, shadow.cost_usd
            )  # fmt: skip
        del gate, shadow, status

    class Watch:
        def on_gate(self, details: GateDetails) -> None:
            _f: list[str] = details.status.failing if details.status else []

        def on_shadow(self, details: ShadowDetails) -> None:
            _a: float | None = details.agreement

    del Watch
