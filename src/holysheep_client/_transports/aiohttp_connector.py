"""
The aiohttp pool's connector: aiohttp's own, plus httpcore's idle cap.

aiohttp keeps every released connection alive (up to ``limit``) for
``keepalive_timeout``; httpcore keeps at most ``max_keepalive_connections`` of them.
The connector counts the connections it kept, and closes a released one instead of
keeping it when that many are idle already. It uses aiohttp's public surface only:
``connect()``, ``Connection.add_callback`` (run as a connection is released), and
the protocol's ``should_close`` / ``force_close()`` / ``is_connected()``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._runtime import RUNTIME

__all__ = ["connector_class"]


def connector_class() -> type[Any]:
    """
    aiohttp's ``TCPConnector`` with httpcore's cap on idle connections (built on
    first use, so that importing this module does not import aiohttp).
    """

    def build() -> type[Any]:
        import aiohttp

        class IdleCappedConnector(aiohttp.TCPConnector):
            """
            aiohttp's connector with httpcore's idle cap: at most ``max_idle``
            kept-alive connections (aiohttp keeps up to ``limit``).
            """

            def __init__(self, *, max_idle: int, expiry: float, **kw: Any) -> None:
                super().__init__(**kw)
                self.max_idle = max_idle
                self.expiry = expiry
                self.idle: dict[Any, float] = {}

            async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
                conn = await super().connect(req, traces, timeout)
                proto = conn.protocol
                self.idle.pop(proto, None)
                conn.add_callback(lambda: self._released(proto))
                return conn

            def _released(self, proto: Any) -> None:
                if proto is None or proto.should_close:
                    return
                idle = self.idle
                now = asyncio.get_running_loop().time()
                if len(idle) >= self.max_idle:
                    for p, at in list(idle.items()):
                        if now - at > self.expiry or not p.is_connected():
                            del idle[p]
                if len(idle) >= self.max_idle:
                    proto.force_close()  # over the cap: closed, not kept
                else:
                    idle[proto] = now

        return IdleCappedConnector

    return RUNTIME.cached("aiohttp-connector", build)
