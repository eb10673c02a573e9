"""
Fixtures for the shared-state tests: a real ``redis-server`` on a free loopback port.

``make test`` never installs anything on the system: without ``redis-server`` these
tests skip with the reason (``.ci/run`` installs it first, and under ``CI`` a missing
server fails them instead).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis", reason="the redis extra is not installed")

from redis_server import RedisServer, free_port


def _binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        reason = (
            "redis-server is not on PATH: install it (e.g. `apt-get install"
            " redis-server`) to run the shared-state tests"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh, empty redis-server on a free loopback port, stopped after the test."""
    server = RedisServer(_binary(), free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
