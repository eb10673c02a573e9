"""
The official openai SDK on our resilience stack, against an OpenAI-compatible provider.

`build_http_client()` gives the SDK our pool, deadline, retries (with Retry-After),
circuit breaker and rate limit; the SDK's own retries stay off (``max_retries=0``).
This runs offline against the loopback fake provider: the first call gets a 429
with ``Retry-After: 0.2``, which our stack waits out and retries. Then the provider
fails hard, our breaker opens after ``fail_max`` failed attempts, and the next call
is refused at once without touching the network.
"""

from __future__ import annotations

import asyncio

import openai

from holysheep_client import (
    BreakerConfig,
    CircuitOpenError,
    ClientConfig,
    ProviderConfig,
    RetryConfig,
    build_http_client,
)
from holysheep_client.testing import DEFAULT_API_KEY, FakeServer, Fault

MESSAGES = [{"role": "user", "content": "Summarise my order status."}]


async def main() -> None:
    with FakeServer.start(
        faults=[Fault("status", status=429, retry_after=0.2, times=1)]
    ) as server:
        config = ClientConfig(
            providers=[
                ProviderConfig(
                    name="relay",
                    base_url=server.url,
                    protocol="openai",
                    api_key=DEFAULT_API_KEY,
                )
            ],
            retry=RetryConfig(max_attempts=2, initial_backoff=0.05, max_backoff=0.2),
            circuit_breaker=BreakerConfig(fail_max=2, reset_timeout=30),
        )
        async with openai.AsyncOpenAI(
            base_url=server.url,
            api_key=DEFAULT_API_KEY,
            http_client=build_http_client(config, provider="relay"),
            max_retries=0,
        ) as sdk:
            completion = await sdk.chat.completions.create(
                model="gpt-4.1",
                messages=MESSAGES,  # type: ignore[arg-type]
            )
            print(completion.choices[0].message.content)
            print(
                f"requests so far: {server.stats()['requests']} (429, then our retry)"
            )

            server.set_faults([Fault("status", status=503)])
            try:
                await sdk.chat.completions.create(model="gpt-4.1", messages=MESSAGES)  # type: ignore[arg-type]
            except openai.InternalServerError as exc:
                print(f"gave up after our retries: {exc.status_code}")
            seen = server.stats()["requests"]
            try:
                await sdk.chat.completions.create(model="gpt-4.1", messages=MESSAGES)  # type: ignore[arg-type]
            except openai.APIConnectionError as exc:
                # The SDK wraps our error; the cause is still our CircuitOpenError.
                if isinstance(exc.__cause__, CircuitOpenError):
                    print(f"refused without I/O: {exc.__cause__}")
            print(
                f"requests during the refused call: {server.stats()['requests'] - seen}"
            )


if __name__ == "__main__":
    asyncio.run(main())
