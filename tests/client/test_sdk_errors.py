"""
Our errors under the official SDKs: the SDK's own class, our class too, a message
naming the provider and the reason, and our exception as ``__cause__``; the SDKs are
extras, and their absence names the extra to install.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from holysheep_client import (
    APITimeoutError,
    BreakerConfig,
    CircuitOpenError,
    ClientConfig,
    ConfigError,
    HolySheepError,
    ProviderConfig,
    RateLimitConfig,
    RateLimitError,
    RetryConfig,
    TimeoutConfig,
    build_http_client,
    build_sdk_client,
)
from holysheep_client._client.http_client import import_sdk

MESSAGE = {"role": "user", "content": "hi"}
#: Nothing listens on the discard port: every connect is refused at once.
REFUSED = "http://127.0.0.1:9/v1"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback port that accepts connections (in its backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def config(protocol: str, url: str = REFUSED, **kw: Any) -> ClientConfig:
    data: dict[str, Any] = {
        "providers": [
            ProviderConfig(name="fake", base_url=url, protocol=protocol, api_key="k")
        ],
        "retry": RetryConfig(max_attempts=1),
        "rate_limit": None,
    }
    data.update(kw)
    return ClientConfig(**data)


def call(sdk: Any) -> Any:
    if hasattr(sdk, "messages"):
        return sdk.messages.create(model="m", max_tokens=8, messages=[MESSAGE])
    return sdk.chat.completions.create(model="m", messages=[MESSAGE])


def breaker_open(protocol: str, url: str) -> ClientConfig:
    return config(protocol, circuit_breaker=BreakerConfig(fail_max=1, reset_timeout=60))


def rate_limited(protocol: str, url: str) -> ClientConfig:
    return config(
        protocol,
        rate_limit=RateLimitConfig(requests_per_second=0.01),
        timeout=TimeoutConfig(total=0.2),
    )


def deadline(protocol: str, url: str) -> ClientConfig:
    return config(protocol, url, timeout=TimeoutConfig(total=0.3))


CASES = [
    pytest.param(breaker_open, CircuitOpenError, "circuit breaker open", id="breaker"),
    pytest.param(rate_limited, RateLimitError, "local rate limit", id="rate-limit"),
    pytest.param(deadline, APITimeoutError, "deadline or timeout", id="deadline"),
]


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
@pytest.mark.parametrize(("make", "ours", "reason"), CASES)
def test_sdk_error_names_the_provider_and_keeps_ours_as_cause(
    protocol: str,
    make: Callable[[str, str], ClientConfig],
    ours: type[HolySheepError],
    reason: str,
    silent_url: str,
) -> None:
    """The SDK raises its own error class, saying which provider and why, from ours."""
    sdk_module = import_sdk(protocol)  # type: ignore[arg-type]
    sdk = build_sdk_client(make(protocol, silent_url), "fake", sync=True)
    if ours is not APITimeoutError:
        with pytest.raises(sdk_module.APIConnectionError):
            call(
                sdk
            )  # the connection is refused: this opens the breaker, or spends the rate
    with pytest.raises(sdk_module.APIConnectionError) as info:
        call(sdk)
    sdk.close()
    err = info.value
    assert isinstance(err.__cause__, ours)
    assert isinstance(err, ours)
    assert "provider 'fake'" in str(err)
    assert reason in str(err)
    if ours is APITimeoutError:
        assert isinstance(err, sdk_module.APITimeoutError)


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
@pytest.mark.parametrize(("make", "ours", "reason"), CASES)
@pytest.mark.anyio
async def test_async_sdk_errors_on_each_pool_backend(
    protocol: str,
    make: Callable[[str, str], ClientConfig],
    ours: type[HolySheepError],
    reason: str,
    silent_url: str,
    pool_backend: str,
) -> None:
    """The async SDKs on either pool get the same error: theirs, ours, the reason."""
    sdk_module = import_sdk(protocol)  # type: ignore[arg-type]
    cfg = make(protocol, silent_url)
    cfg = cfg.model_copy(
        update={"pool": cfg.pool.model_copy(update={"backend": pool_backend})}
    )
    sdk = build_sdk_client(cfg, "fake")
    if ours is not APITimeoutError:
        with pytest.raises(sdk_module.APIConnectionError):
            await call(sdk)
    with pytest.raises(sdk_module.APIConnectionError) as info:
        await call(sdk)
    await sdk.close()
    err = info.value
    assert isinstance(err.__cause__, ours) and isinstance(err, ours)
    assert f"{reason} for provider 'fake'" in str(err)
    if ours is APITimeoutError:
        assert isinstance(err, sdk_module.APITimeoutError)


def test_a_plain_httpx2_caller_still_gets_the_library_error() -> None:
    """Without an SDK's headers, the error is httpx2's transport error and ours."""
    cfg = breaker_open("anthropic", REFUSED)
    with build_http_client(cfg, "fake", sync=True) as http:
        with pytest.raises(httpx2.TransportError):
            http.get(f"{REFUSED}/models")
        with pytest.raises(httpx2.TransportError) as info:
            http.get(f"{REFUSED}/models")
    assert isinstance(info.value, CircuitOpenError)
    assert isinstance(info.value.__cause__, CircuitOpenError)
    assert "circuit breaker open for provider 'fake'" in str(info.value)


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
def test_build_sdk_client_sets_base_url_key_and_no_sdk_retries(protocol: str) -> None:
    """The SDK client gets the provider's URL (without /v1 for anthropic) and key."""
    sdk = build_sdk_client(
        config(protocol, "https://relay.example/v1"), "fake", sync=True
    )
    expected = (
        "https://relay.example"
        if protocol == "anthropic"
        else "https://relay.example/v1"
    )
    assert str(sdk.base_url).rstrip("/") == expected
    assert sdk.api_key == "k"
    assert sdk.max_retries == 0
    sdk.close()


def test_anthropic_base_url_must_end_in_v1() -> None:
    """The Anthropic SDK adds /v1 itself, so another prefix is a ConfigError."""
    with pytest.raises(ConfigError, match="base_url"):
        build_sdk_client(config("anthropic", "https://relay.example/api"), "fake")


@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
def test_a_missing_sdk_names_the_extra(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the SDK installed, the error says which extra installs it."""
    monkeypatch.setitem(sys.modules, protocol, None)
    with pytest.raises(ModuleNotFoundError, match=rf"holysheep-client\[{protocol}\]"):
        build_sdk_client(config(protocol), "fake")
