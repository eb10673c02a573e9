"""
Configs and fakes for the client tests on the in-process transports.
"""

from __future__ import annotations

from typing import Any

from holysheep_client import ClientConfig, ProviderConfig, RetryConfig
from holysheep_client.testing import FakeProvider

KEY = "sk-test-secret-abcdef"
USER = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello there"},
]


def config(*names_protocols: tuple[str, str], **kw: Any) -> ClientConfig:
    """Providers ``(name, protocol)`` on ``http://{name}.localhost/v1``, weights 100, 90..."""
    providers = [
        ProviderConfig(
            name=name,
            base_url=f"http://{name}.localhost/v1",
            protocol=proto,  # type: ignore[arg-type]
            api_key=KEY,
            weight=100 - 10 * i,
            models={"big": "big-model"},
        )
        for i, (name, proto) in enumerate(names_protocols)
    ]
    kw.setdefault(
        "retry", RetryConfig(max_attempts=2, initial_backoff=0, max_backoff=0)
    )
    kw.setdefault("rate_limit", None)
    return ClientConfig(providers=providers, **kw)


def fakes(*names: str, **kw: Any) -> dict[str, FakeProvider]:
    """One fake provider per name, all taking ``KEY``."""
    return {n: FakeProvider(api_key=KEY, **kw) for n in names}
