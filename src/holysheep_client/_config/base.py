"""
What every config model shares: frozen, ``extra="forbid"``, and `ConfigError`
(naming the field, never the value) from every way in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
)

from .._utils import parse_duration
from ..errors import ConfigError
from .environ import ENVIRON

__all__ = ["NAME_PATTERN", "ConfigModel", "Duration", "config_error"]

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, from a number or a string such as "90s", "30m", "24h"."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


def config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """
    Turn pydantic's error into ours: field path and reason, never the input.
    """
    err = exc.errors(include_input=False, include_url=False)[0]
    loc = [str(p) for p in err.get("loc", ())]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        loc.append(cause.field)
        reason = cause.reason
    else:
        reason = err.get("msg", "invalid value")
        reason = reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    field = ".".join(p for p in [prefix, *loc] if p) or "config"
    return ConfigError(field, reason)


class ConfigModel(BaseModel):
    """
    Base of every config model: frozen, strict about unknown keys, `ConfigError` on failure.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """
        Validate a mapping (or model) into this config.

        Raises:
            ConfigError: Naming the first invalid field and why.
        """
        ctx = kwargs.get("context")
        env = ctx.get("environ") if isinstance(ctx, Mapping) else None
        token = ENVIRON.set(env) if env is not None else None
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise config_error(exc) from None
        finally:
            if token is not None:
                ENVIRON.reset(token)

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        """
        Validate a JSON document into this config.

        Raises:
            ConfigError: Naming the first invalid field and why.
        """
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise config_error(exc) from None
