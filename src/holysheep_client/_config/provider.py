"""
ProviderConfig: one upstream provider, its key resolved and checked once.
"""

from __future__ import annotations

import re
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._utils import has_control_chars, is_loopback_host
from ..errors import ConfigError
from .base import NAME_PATTERN, ConfigModel
from .environ import environ_for

__all__ = ["CAPABILITIES", "ENV_NAME", "Capability", "ProviderConfig", "looks_like_key"]

Capability = Literal["tools", "images", "json_schema", "reasoning", "prompt_cache"]
#: Every capability a provider may have (the default of `ProviderConfig.capabilities`).
CAPABILITIES: frozenset[Capability] = frozenset(
    {"tools", "images", "json_schema", "reasoning", "prompt_cache"}
)

#: What ``api_key_env`` must look like: a POSIX-style environment variable name.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_KEY_PREFIXES = ("sk-", "sk_", "pk-", "pk_", "rk_", "hs-", "hs_", "key-", "Bearer ")


def looks_like_key(value: str) -> bool:
    """
    True when ``value`` looks like an API key rather than a variable or secret name.

    Keys start with a vendor prefix such as ``sk-``, or are long runs mixing
    lower-case letters and digits; variable names are short and upper-case.
    """
    if value.startswith(_KEY_PREFIXES):
        return True
    return (
        len(value) >= 32
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


class ProviderConfig(ConfigModel):
    """
    One upstream provider.

    Attributes:
        name: Unique name, e.g. ``"holysheep"``.
        base_url: Including the version prefix, e.g. ``"https://api.holysheep.ai/v1"``.
        protocol: ``"anthropic"`` (Messages API) or ``"openai"`` (chat completions).
        api_key_env: The environment variable holding the key (resolved when validated)...
        api_key: ...or the key itself, kept as a ``SecretStr``.
        weight: Relative share of primary traffic, >= 0.
        models: Alias -> this provider's model id.
        allow_insecure_http: Permit ``http://`` to a host that is not loopback.
        capabilities: What the provider can take: ``tools``, ``images``,
            ``json_schema`` (structured output), ``reasoning``, ``prompt_cache``
            (all by default). A call that needs one is routed only to providers
            that have it; without ``prompt_cache``, cache breakpoints are not sent.
    """

    name: str
    base_url: str
    protocol: Literal["anthropic", "openai"] = "anthropic"
    api_key_env: str | None = None
    api_key: SecretStr | None = None
    weight: float = Field(100.0, ge=0)
    models: dict[str, str] = Field(default_factory=dict)
    allow_insecure_http: bool = False
    capabilities: frozenset[Capability] = CAPABILITIES

    _key: SecretStr = PrivateAttr(default=SecretStr(""))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(
                "expected 1-63 letters, digits, '-', '_' or '.', starting and ending"
                " with a letter or digit"
            )
        return v

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        # Never echo the value: a key pasted here by mistake must not reach a log.
        if v is None:
            return v
        if looks_like_key(v):
            raise ValueError(
                "looks like an API key, not the name of an environment variable; put"
                " the key in a variable (or a secret) and name that variable here"
            )
        if not ENV_NAME.fullmatch(v):
            raise ValueError(
                "expected an environment variable name: letters, digits and '_',"
                " not starting with a digit, at most 128 characters"
            )
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL with a host")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; use api_key_env")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> Self:
        parts = urlsplit(self.base_url)
        if (
            parts.scheme == "http"
            and not self.allow_insecure_http
            and not is_loopback_host(parts.hostname or "")
        ):
            raise ConfigError(
                "base_url",
                "http:// is only allowed for loopback hosts; use https:// or set"
                " allow_insecure_http=True",
            )
        if (self.api_key is None) == (self.api_key_env is None):
            raise ConfigError("api_key", "give exactly one of api_key or api_key_env")
        if self.api_key_env is not None:
            value = environ_for(info).get(self.api_key_env)
            if value is None:
                raise ConfigError(
                    "api_key_env",
                    f"environment variable {self.api_key_env} is not set",
                )
            field, key = "api_key_env", value
        else:
            assert self.api_key is not None
            field, key = "api_key", self.api_key.get_secret_value()
        if not key.strip():
            raise ConfigError(field, "the API key is empty")
        if has_control_chars(key) or not key.isascii():
            raise ConfigError(
                field, "the API key contains control or non-ASCII characters"
            )
        self._key = SecretStr(key.strip())
        return self

    def secret(self) -> SecretStr:
        """
        The resolved API key (still a ``SecretStr``; unwrap it only to send it).
        """
        return self._key

    def model_for(self, alias: str) -> str:
        """
        This provider's model id for ``alias`` (the alias itself when not mapped).
        """
        return self.models.get(alias, alias)
