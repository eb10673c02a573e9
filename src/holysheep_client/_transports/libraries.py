"""
The HTTP libraries a pool takes requests from and gives responses to (httpx2 or
httpx), and what every pool of a library shares: its TLS context.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Literal

from .._runtime import RUNTIME

__all__ = ["Flavor", "h2_available", "library", "ssl_context"]

Flavor = Literal["httpx2", "httpx"]


def library(flavor: str) -> Any:
    """
    The ``httpx2`` or ``httpx`` module.

    Raises:
        ValueError: Any other flavor.
    """
    if flavor not in ("httpx2", "httpx"):
        raise ValueError(f"flavor must be 'httpx2' or 'httpx', not {flavor!r}")
    return importlib.import_module(flavor)


def ssl_context(flavor: str) -> Any:
    """
    The TLS context every pool of ``flavor`` shares: the library's default
    (certifi's CA bundle, verification on), built once per process.

    Building one reads and parses the whole CA bundle (about 50 ms); a client
    with three providers built three, and an ``SSLContext`` is safe to share
    between connections and threads.
    """
    lib = library(flavor)
    return RUNTIME.cached(("ssl-context", flavor), lib.create_ssl_context)


def h2_available() -> bool:
    """
    Whether the ``h2`` package (needed for HTTP/2) is installed.
    """
    return importlib.util.find_spec("h2") is not None
