"""
Two loopback fake providers (legacy: OpenAI protocol; holysheep: Anthropic), reset per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from router_helpers import REPLY

from holysheep_client.testing import FakeServer
from shells import POOL_SHELLS, Shell


@pytest.fixture(scope="package")
def _servers() -> Iterator[dict[str, FakeServer]]:
    """Start both servers once for the package."""
    with FakeServer.start(reply=REPLY) as legacy, FakeServer.start(reply=REPLY) as hs:
        yield {"legacy": legacy, "holysheep": hs}


@pytest.fixture
def servers(_servers: dict[str, FakeServer]) -> dict[str, FakeServer]:
    """Both servers, with faults and logs cleared."""
    for s in _servers.values():
        s.reset()
    return _servers


@pytest.fixture(params=POOL_SHELLS)
def shell(request: pytest.FixtureRequest) -> Shell:
    """Over loopback the pool is real: AsyncClient on httpcore, on aiohttp, then Client."""
    return Shell(request.param)
