"""
The process environment: the single place that reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar

from pydantic import ValidationInfo

__all__ = ["ENVIRON", "environ_for", "process_environ"]

#: An explicit environment for the validation in progress (``from_env(environ)``,
#: ``from_yaml(..., environ=)``): models with a custom ``__init__`` lose pydantic's
#: validation context when nested, so it also travels in this context variable.
ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar(
    "holysheep_environ", default=None
)


def process_environ() -> Mapping[str, str]:
    """
    The process environment (the single read site).
    """
    return os.environ


def environ_for(info: ValidationInfo) -> Mapping[str, str]:
    """
    Where a model being validated looks up ``api_key_env``.
    """
    ctx = info.context if isinstance(info.context, Mapping) else {}
    env = ctx.get("environ") or ENVIRON.get()
    return process_environ() if env is None else env
