"""
Fixtures for the fake provider's tests: one loopback server per module, reset per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from holysheep_client.testing import FakeServer


@pytest.fixture(scope="module")
def _module_server() -> Iterator[FakeServer]:
    """A loopback fake provider shared by a module's tests."""
    with FakeServer.start() as server:
        yield server


@pytest.fixture
def server(_module_server: FakeServer) -> FakeServer:
    """The module's loopback fake provider, reset to a clean state."""
    _module_server.reset()
    return _module_server
