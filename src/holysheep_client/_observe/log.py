"""
The package logger: ``logging.getLogger("holysheep_client")``.

As a library it adds only a ``NullHandler``, so an application that configures no
logging sees nothing from us (not even warnings on stderr through logging's
"last resort" handler). ``HOLYSHEEP_LOG=info`` or ``HOLYSHEEP_LOG=debug`` turns it on
with a stderr handler of its own, the way ``ANTHROPIC_LOG`` does for the SDK.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from .._config.environ import process_environ

__all__ = ["LOG_ENV", "configure_logging", "logger"]

#: The variable that turns our logger on, like the SDKs' ``ANTHROPIC_LOG``.
LOG_ENV = "HOLYSHEEP_LOG"

_LEVELS = {"info": logging.INFO, "debug": logging.DEBUG}
_FORMAT = "[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s"

logger = logging.getLogger("holysheep_client")


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler ``HOLYSHEEP_LOG`` installs (recognised so it is added once)."""


def configure_logging(
    environ: Mapping[str, str] | None = None, *, target: logging.Logger = logger
) -> logging.Handler | None:
    """
    Give ``target`` a ``NullHandler``, and a stderr handler when ``HOLYSHEEP_LOG`` asks.

    Args:
        environ: Where ``HOLYSHEEP_LOG`` is read (the process environment by default).
        target: The logger to configure.

    Returns:
        The stderr handler, when ``HOLYSHEEP_LOG`` is ``info`` or ``debug``; else
        ``None`` (any other value is ignored, as ``ANTHROPIC_LOG`` ignores it).
    """
    if not any(isinstance(h, logging.NullHandler) for h in target.handlers):
        target.addHandler(logging.NullHandler())
    env = process_environ() if environ is None else environ
    level = _LEVELS.get(env.get(LOG_ENV, "").strip().lower())
    if level is None:
        return None
    handler = next((h for h in target.handlers if isinstance(h, _EnvHandler)), None)
    if handler is None:
        handler = _EnvHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT, "%Y-%m-%d %H:%M:%S"))
        target.addHandler(handler)
    target.setLevel(level)
    # Our handler prints every record already: an application's root handler
    # would print it a second time.
    target.propagate = False
    return handler


configure_logging()
