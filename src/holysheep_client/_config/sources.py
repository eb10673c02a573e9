"""
Where configuration comes from: YAML files (ours and the seed's shape) and the environment.

This is the only module that reads the environment for configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import ConfigError
from .environ import process_environ
from .files import read_yaml
from .seed import seed_field, seed_to_ours

__all__ = ["load_env", "load_yaml", "seed_to_ours"]

C = TypeVar("C", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.holysheep.ai/v1"

#: Per protocol: the official SDK's key and base-URL variables, and its default URL.
_SDK_ENV = {
    "anthropic": (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
    ),
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
}


def load_yaml(
    cls: type[C], path: str | Path, *, environ: Mapping[str, str] | None = None
) -> C:
    """
    Read a config file in either shape; see `ClientConfig.from_yaml`.
    """
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        raise ConfigError("config", "expected a mapping at the top of the file")
    context = None if environ is None else {"environ": environ}
    if "api_configs" not in data:
        return cls.model_validate(data, context=context)
    ours = seed_to_ours(data, top_keys=cls.model_fields)
    try:
        return cls.model_validate(ours, context=context)
    except ConfigError as exc:
        raise ConfigError(seed_field(exc.field, ours), exc.reason) from None


def _env_number(
    env: Mapping[str, str], name: str, kind: type[float] | type[int]
) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        if len(text) > 20:
            raise ValueError
        value = kind(text)
    except ValueError:
        raise ConfigError(
            name, f"expected {'an integer' if kind is int else 'a number'}"
        ) from None
    if value != value or value <= 0:
        raise ConfigError(name, "must be greater than 0")
    return value


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name)
        if value:
            return name, value
    return None


def load_env(cls: type[C], environ: Mapping[str, str] | None = None) -> C:
    """
    Build a single-provider config from the environment; see `ClientConfig.from_env`.

    Ours take precedence: the key is ``HOLYSHEEP_API_KEY``, else the official SDK's
    variable for the provider's protocol (``ANTHROPIC_API_KEY`` / ``OPENAI_API_KEY``).
    The base URL is ``HOLYSHEEP_BASE_URL``, else ``DEERFLOW_BASE_URL``; then, only
    when the key came from the SDK's variable, the SDK's (``ANTHROPIC_BASE_URL``, to
    which ``/v1`` is added as the SDK does, or ``OPENAI_BASE_URL``) and the SDK's
    own default; with our key, the relay's default.
    """
    env = process_environ() if environ is None else environ
    protocol = env.get("HOLYSHEEP_PROTOCOL") or "anthropic"
    sdk_key, sdk_url, sdk_default = _SDK_ENV.get(protocol, _SDK_ENV["anthropic"])
    key = _first(env, "HOLYSHEEP_API_KEY", sdk_key)
    if key is None:
        raise ConfigError(
            "HOLYSHEEP_API_KEY", f"environment variable is not set (nor {sdk_key})"
        )
    ours = key[0] == "HOLYSHEEP_API_KEY"
    # The SDK's base URL goes with the SDK's key only: our key never follows an
    # ANTHROPIC_BASE_URL meant for other tools to another host.
    url = _first(
        env, "HOLYSHEEP_BASE_URL", "DEERFLOW_BASE_URL", *([] if ours else [sdk_url])
    ) or ("", DEFAULT_BASE_URL if ours else sdk_default)
    base_url = url[1]
    from_sdk = url[0] == sdk_url or (url[0] == "" and key[0] == sdk_key)
    if protocol == "anthropic" and from_sdk:
        base_url = _with_v1(base_url)
    provider: dict[str, Any] = {
        "name": env.get("HOLYSHEEP_PROVIDER_NAME") or "holysheep",
        "base_url": base_url,
        "api_key_env": key[0],
    }
    if env.get("HOLYSHEEP_PROTOCOL"):
        provider["protocol"] = env["HOLYSHEEP_PROTOCOL"]
    data: dict[str, Any] = {"providers": [provider]}
    mcr = _env_number(env, "MAX_CONCURRENT_REQUESTS", int)
    if mcr is not None:
        data["max_concurrent_requests"] = mcr
    if env.get("HOLYSHEEP_SHARED_STATE_URL"):
        data["shared_state"] = {"url": env["HOLYSHEEP_SHARED_STATE_URL"]}
    timeout = _env_number(env, "REQUEST_TIMEOUT", float)
    if timeout is not None:
        data["timeout"] = {"per_attempt": timeout}
    try:
        return cls.model_validate(data, context={"environ": env})
    except ConfigError as exc:
        names = {
            "providers.0.base_url": url[0] or "HOLYSHEEP_BASE_URL",
            "providers.0.api_key_env": key[0],
            "providers.0.protocol": "HOLYSHEEP_PROTOCOL",
            "providers.0.name": "HOLYSHEEP_PROVIDER_NAME",
            "shared_state.url": "HOLYSHEEP_SHARED_STATE_URL",
            "timeout.per_attempt": "REQUEST_TIMEOUT",
            "max_concurrent_requests": "MAX_CONCURRENT_REQUESTS",
        }
        if exc.field in names:
            raise ConfigError(names[exc.field], exc.reason) from None
        raise


def _with_v1(url: str) -> str:
    # ANTHROPIC_BASE_URL is the origin (the SDK adds /v1); ours includes the prefix.
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"
