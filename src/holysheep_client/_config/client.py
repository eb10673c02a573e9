"""
ClientConfig: everything a client needs, and ModelPrice for ``pricing=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from ..errors import ConfigError
from .base import ConfigModel
from .provider import ProviderConfig
from .resilience import (
    BreakerConfig,
    BudgetConfig,
    PoolConfig,
    RateLimitConfig,
    RetryConfig,
    SharedStateConfig,
    TimeoutConfig,
)
from .routing import HedgingConfig, MigrationConfig

__all__ = ["ClientConfig", "ModelPrice"]


class ModelPrice(ConfigModel):
    """
    USD per million tokens for one model.

    Attributes:
        input: Input tokens (those not read from or written to a cache).
        output: Output tokens.
        cache_read: Input tokens read from the prompt cache (``None``: the input price).
        cache_write: Input tokens written to the prompt cache (``None``: the input price).
    """

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(None, ge=0)
    cache_write: float | None = Field(None, ge=0)


class ClientConfig(ConfigModel):
    """
    Everything a `Client` / `AsyncClient` needs; see the configuration guide.
    """

    providers: tuple[ProviderConfig, ...] = Field(min_length=1)
    retry: RetryConfig = RetryConfig()
    circuit_breaker: BreakerConfig = BreakerConfig()
    rate_limit: RateLimitConfig | None = RateLimitConfig()
    pool: PoolConfig = PoolConfig()
    timeout: TimeoutConfig = TimeoutConfig()
    max_concurrent_requests: int | None = Field(50, ge=1)
    migration: MigrationConfig | None = None
    hedging: HedgingConfig | None = None
    context_fallbacks: dict[str, str] = Field(default_factory=dict)
    pricing: dict[str, ModelPrice] | None = None
    cny_per_usd: float = Field(7.3, gt=0)
    shared_state: SharedStateConfig | None = None
    budgets: tuple[BudgetConfig, ...] = ()

    @model_validator(mode="after")
    def _cross(self) -> Self:
        names = [p.name for p in self.providers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigError(f"providers.{i}.name", "duplicate provider name")
        if all(p.weight == 0 for p in self.providers):
            raise ConfigError(
                "providers", "all weights are 0; at least one must be positive"
            )
        if self.migration is not None:
            for field in ("source", "target"):
                if getattr(self.migration, field) not in names:
                    raise ConfigError(f"migration.{field}", "names an unknown provider")
        for alias, bigger in self.context_fallbacks.items():
            if alias == bigger:
                raise ConfigError(
                    f"context_fallbacks.{alias}", "must name a different model"
                )
        tags = [b.per_tag for b in self.budgets]
        for i, tag in enumerate(tags):
            if tag in tags[:i]:
                raise ConfigError(f"budgets.{i}.per_tag", "two budgets for one tag")
        return self

    def provider(self, name: str) -> ProviderConfig:
        """
        The provider called ``name``.

        Raises:
            ConfigError: No provider has that name.
        """
        for p in self.providers:
            if p.name == name:
                return p
        raise ConfigError("provider", f"no provider is named {name!r}")

    @classmethod
    def from_yaml(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None
    ) -> Self:
        """
        Load a YAML file in this shape, or in the seed's ``api_configs`` shape.

        Args:
            path: The file.
            environ: Where ``api_key_env`` / ``api_key_ref`` are looked up
                (the process environment by default).

        Raises:
            ConfigError: The file is missing, not YAML, or not a valid config.
        """
        from .sources import load_yaml

        return load_yaml(cls, path, environ=environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """
        Build a single-provider config from ``HOLYSHEEP_API_KEY``, ``HOLYSHEEP_BASE_URL``
        (``DEERFLOW_BASE_URL`` accepted), ``MAX_CONCURRENT_REQUESTS``, ``REQUEST_TIMEOUT``,
        and optionally ``HOLYSHEEP_PROTOCOL`` and ``HOLYSHEEP_SHARED_STATE_URL`` (a Redis
        URL, which may carry a password from a Secret).

        Raises:
            ConfigError: A variable is missing or invalid; the error names it.
        """
        from .sources import load_env

        return load_env(cls, environ)

    def to_dict(self) -> dict[str, Any]:
        """
        This config in the YAML shape that `from_yaml` reads back, with no secret in it.

        Raises:
            ConfigError: A provider carries a literal ``api_key`` (only ``api_key_env``
                can be written out), or the shadow comparator is a callable.
        """
        shadow = self.migration.shadow if self.migration is not None else None
        if shadow is not None and callable(shadow.comparator):
            raise ConfigError(
                "migration.shadow.comparator",
                "a callable is never written out; name a comparator (exact,"
                " normalized_text, json_fields) in the file",
            )
        for i, p in enumerate(self.providers):
            if p.api_key is not None:
                raise ConfigError(
                    f"providers.{i}.api_key",
                    "a literal key is never written out; use api_key_env",
                )
        data = self.model_dump(mode="python", exclude={"shared_state"})
        for p in data["providers"]:
            p.pop("api_key", None)
        if self.shared_state is not None:
            url = self.shared_state.url.get_secret_value()
            if urlsplit(url).password is not None:
                raise ConfigError(
                    "shared_state.url",
                    "carries a password, which is never written out; put the URL in"
                    " a secret and leave the password out of the file",
                )
            data["shared_state"] = {
                "url": url,
                "prefix": self.shared_state.prefix,
                "timeout": self.shared_state.timeout,
            }
        return _plain(data)  # type: ignore[no-any-return]

    def to_yaml(self) -> str:
        """
        `to_dict` as a YAML document.
        """
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    return value
