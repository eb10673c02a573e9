"""
Config builders for the router's end-to-end tests.
"""

from __future__ import annotations

from typing import Any

from holysheep_client import (
    BreakerConfig,
    ClientConfig,
    ProviderConfig,
    RetryConfig,
    TimeoutConfig,
)
from holysheep_client.testing import FakeServer

REPLY = "The quick brown fox jumps over the lazy dog again and again."


def two_providers(
    servers: dict[str, FakeServer],
    *,
    holysheep_weight: float = 100,
    legacy_weight: float = 0,
    **kw: Any,
) -> ClientConfig:
    """legacy (OpenAI protocol) and holysheep (Anthropic) on the loopback fakes."""
    kw.setdefault(
        "retry", RetryConfig(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
    )
    kw.setdefault("timeout", TimeoutConfig(per_attempt=5.0, total=10.0))
    kw.setdefault("circuit_breaker", BreakerConfig(fail_max=50, reset_timeout=60))
    kw.setdefault("rate_limit", None)
    return ClientConfig(
        providers=[
            ProviderConfig(
                name="holysheep",
                base_url=servers["holysheep"].url,
                api_key="test-key",
                weight=holysheep_weight,
                models={"big": "big-model"},
            ),
            ProviderConfig(
                name="legacy",
                base_url=servers["legacy"].url,
                protocol="openai",
                api_key="test-key",
                weight=legacy_weight,
                models={"big": "big-model"},
            ),
        ],
        **kw,
    )
