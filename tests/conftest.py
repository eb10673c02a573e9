"""
Shared fixtures: the anyio backend (asyncio only) and the `../shared/` folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shells import SHELLS, Shell

#: The async pool backends; transport and loopback tests run on each.
BACKENDS = ("httpcore", "aiohttp")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


@pytest.fixture
def shared_dir() -> Path:
    """The team's shared folder beside the clone; tests needing it skip without it."""
    if not SHARED.is_dir():
        pytest.skip(
            "../shared/ is not beside this clone (CI has it; a user's clone does not)"
        )
    return SHARED


@pytest.fixture(params=SHELLS)
def shell(request: pytest.FixtureRequest) -> Shell:
    """The client a behaviour test runs on: AsyncClient, then Client."""
    return Shell(request.param)


@pytest.fixture(params=BACKENDS)
def pool_backend(request: pytest.FixtureRequest) -> str:
    """The async pool backend a transport test runs on: httpcore, then aiohttp."""
    return str(request.param)
