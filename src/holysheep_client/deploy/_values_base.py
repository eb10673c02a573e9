"""
The base of the values models (frozen, camelCase keys, unknown keys refused), the
reference defaults, and how a pydantic error becomes a `ConfigError` naming the key's
path (``resources.requests.cpu``, ``tolerations[0].effect``).
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from ..errors import ConfigError

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_LIMITS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_REQUESTS",
    "REDIS_IMAGE",
    "RESERVED_LABELS",
    "RESERVED_POD_ANNOTATIONS",
    "Values",
    "format_path",
    "parse_path",
    "values_error",
]

DEFAULT_NAMESPACE = "deerflow-prod"
DEFAULT_IMAGE = "deerflow/deerflow-api:2.0.3"
REDIS_IMAGE = (
    "redis:7.4.11-alpine"
    "@sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf"
)
"""Redis 7.4.11 on Alpine, pinned to its multi-arch index digest so a moved tag never
changes what runs; override it with ``redis.image`` or ``--redis-image``."""
RESERVED_LABELS = ("app", "track", "version", "istio-injection")
"""Label keys the stack sets itself: its selectors and the mesh depend on them."""
RESERVED_POD_ANNOTATIONS = ("checksum/config", "proxy.istio.io/config")
"""Pod annotations the stack sets itself."""
DEFAULT_REQUESTS = {"cpu": "2", "memory": "4Gi"}
DEFAULT_LIMITS = {"cpu": "4", "memory": "8Gi"}


def values_error(exc: ValidationError) -> ConfigError:
    """
    pydantic's first error as a `ConfigError` whose field is the values path
    (``resources.requests.cpu``, ``tolerations[0].effect``), never the value.
    """
    err = exc.errors(include_input=False, include_url=False)[0]
    loc: list[str | int] = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        reason = cause.reason
        loc += parse_path(cause.field)
    elif err.get("type") == "extra_forbidden":
        reason = "unknown key"
    else:
        reason = str(err.get("msg", "invalid value"))
        reason = reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return ConfigError(format_path(loc) or "values", reason)


def parse_path(text: str) -> list[str | int]:
    """
    ``tolerations[0].effect`` as ``["tolerations", 0, "effect"]``.
    """
    return [
        int(t[1:-1]) if t.startswith("[") else t
        for t in re.findall(r"\[\d+\]|[^.\[\]]+", text)
    ]


def format_path(loc: list[str | int] | tuple[str | int, ...]) -> str:
    """
    ``["tolerations", 0, "effect"]`` as ``tolerations[0].effect``.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class Values(BaseModel):
    """
    Base of the values models: frozen, camelCase keys, unknown keys refused.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise values_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """
        Validate a mapping into this model.

        Raises:
            ConfigError: Naming the first invalid key by its path and why.
        """
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise values_error(exc) from None

    def to_dict(self) -> dict[str, Any]:
        """
        The keys that were set, camelCase, as a values file holds them.
        """
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")
