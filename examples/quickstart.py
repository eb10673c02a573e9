"""
Quick start: one chat call and one stream through AsyncClient, against the fake provider.

Swap the transports argument and the base URL for the real relay and it is the same code.
"""

from __future__ import annotations

import asyncio

from holysheep_client import AsyncClient, ClientConfig, ProviderConfig
from holysheep_client.testing import FakeProvider


async def main() -> None:
    fake = FakeProvider(api_key="test-key", reply="Hello! How can I help you today?")
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="holysheep",
                base_url="http://127.0.0.1:8000/v1",  # the real one: https://api.holysheep.ai/v1
                api_key="test-key",
            )
        ]
    )
    async with AsyncClient(
        config, transports={"holysheep": fake.async_transport()}
    ) as client:
        r = await client.chat(
            messages=[
                {"role": "system", "content": "You are a helpful shop assistant."},
                {"role": "user", "content": "When will my order ship?"},
            ],
            model="deepseek-v3.2",
            max_tokens=256,
        )
        print(f"{r.provider} {r.model}: {r.text}")
        print(
            f"tokens in/out: {r.usage.input_tokens}/{r.usage.output_tokens}, cost: {r.cost_usd}"
        )

        async with client.stream(
            messages=[{"role": "user", "content": "Say hello"}], model="deepseek-v3.2"
        ) as s:
            async for delta in s.text_stream:
                print(delta, end="", flush=True)
            final = await s.get_final_response()
        print(
            f"\nstreamed {final.usage.output_tokens} tokens, stop: {final.stop_reason}"
        )


if __name__ == "__main__":
    asyncio.run(main())
