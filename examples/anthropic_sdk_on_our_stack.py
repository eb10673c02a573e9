"""
The official anthropic SDK on our resilience stack: it gains our retries and breaker.

`build_http_client()` returns an ``httpx2`` client whose transport is our stack
(deadline, retry with budget, circuit breaker, rate limit, bulkhead, pool). The SDK
keeps its own API, types and errors; turn its retries off (``max_retries=0``) so
that exactly one layer retries. This runs offline against the loopback fake
provider, which answers the first call with a 503 that our stack retries.
"""

from __future__ import annotations

import asyncio

import anthropic

from holysheep_client import ClientConfig, ProviderConfig, build_http_client
from holysheep_client.testing import DEFAULT_API_KEY, FakeServer, Fault


async def main() -> None:
    with FakeServer.start(faults=[Fault("status", status=503, times=1)]) as server:
        config = ClientConfig(
            providers=[
                ProviderConfig(
                    name="holysheep",
                    base_url=server.url,  # the real one: https://api.holysheep.ai/v1
                    api_key=DEFAULT_API_KEY,
                )
            ]
        )
        http = build_http_client(config, provider="holysheep")
        async with anthropic.AsyncAnthropic(
            base_url=server.origin,  # the SDK adds /v1 itself
            api_key=DEFAULT_API_KEY,
            http_client=http,
            max_retries=0,  # our stack owns retries
        ) as sdk:
            message = await sdk.messages.create(
                model="deepseek-v3.2",
                max_tokens=128,
                messages=[{"role": "user", "content": "When will my order ship?"}],
            )
        text = "".join(b.text for b in message.content if b.type == "text")
        print(f"{message.model}: {text}")
        print(
            f"the provider saw {server.stats()['requests']} requests (503, then our retry)"
        )

        # The sync SDK works the same way on a sync client.
        with anthropic.Anthropic(
            base_url=server.origin,
            api_key=DEFAULT_API_KEY,
            http_client=build_http_client(config, provider="holysheep", sync=True),
            max_retries=0,
        ) as sync_sdk:
            reply = sync_sdk.messages.create(
                model="deepseek-v3.2",
                max_tokens=64,
                messages=[{"role": "user", "content": "Say hello"}],
            )
        print(f"sync: stop_reason={reply.stop_reason}")


if __name__ == "__main__":
    asyncio.run(main())
