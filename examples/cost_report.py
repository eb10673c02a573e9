"""
Cost report: what a day's traffic costs per provider, in USD and CNY, against all-legacy.

Sends a batch of calls through a 50/50 split of a legacy vendor (gpt-4.1) and the
holysheep relay (deepseek-v3.2), then prints `health()`'s per-provider totals, the
same traffic priced as if it had all gone to gpt-4.1, and the saving.
"""

from __future__ import annotations

import asyncio

from holysheep_client import (
    AsyncClient,
    ClientConfig,
    ModelPrice,
    PriceTable,
    ProviderConfig,
)


async def main() -> None:
    from holysheep_client.testing import FakeProvider

    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://legacy.localhost/v1",
                protocol="openai",
                api_key="k",
                weight=50,
                models={"default": "gpt-4.1"},
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://holysheep.localhost/v1",
                api_key="k",
                weight=50,
                models={"default": "deepseek-v3.2"},
            ),
        ],
        # Your contract's prices win over the built-in table.
        pricing={"deepseek-v3.2": ModelPrice(input=0.28, output=0.42)},
        cny_per_usd=7.3,
    )
    reply = "Thanks for your order! It ships tomorrow and arrives within three days."
    transports = {
        "legacy": FakeProvider(api_key="k", reply=reply).async_transport(),
        "holysheep": FakeProvider(api_key="k", reply=reply).async_transport(),
    }
    prices = PriceTable(config.pricing)  # the built-in table, with any overrides
    baseline = 0.0
    async with AsyncClient(config, transports=transports) as client:
        for i in range(200):
            r = await client.chat(
                messages=[{"role": "user", "content": f"Where is order {i}?"}],
                model="default",
                route_key=f"customer-{i}",
            )
            usage = r.usage
            baseline += (
                prices.cost("gpt-4.1", usage.input_tokens, usage.output_tokens) or 0.0
            )
        health = client.health()
    print(f"{'provider':<10}{'calls':>7}{'USD':>12}{'CNY':>12}")
    total = 0.0
    for name, p in health.providers.items():
        total += p.cost_usd
        print(f"{name:<10}{p.requests:>7}{p.cost_usd:>12.6f}{p.cost_cny:>12.5f}")
    rate = config.cny_per_usd
    print(f"{'total':<10}{'':>7}{total:>12.6f}{total * rate:>12.5f}")
    print(f"{'all-legacy':<10}{'':>7}{baseline:>12.6f}{baseline * rate:>12.5f}")
    print(f"saved {1 - total / baseline:.0%} against sending everything to gpt-4.1")


if __name__ == "__main__":
    asyncio.run(main())
