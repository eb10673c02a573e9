"""
Shared fixtures: the anyio backend (asyncio only) and the `../shared/` folder.

``HOLYSHEEP_TEST_POOL_BACKEND=httpcore`` runs the whole suite with httpcore as the
async default (``make test-httpcore``): every pool whose `PoolConfig` names no
backend is built on httpcore, in this process. Tests that name a backend, and
clients in the processes a test starts, keep theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shells import SHELLS, TEST_DEFAULT_BACKEND, Shell

#: The async pool backends; transport and loopback tests run on each.
BACKENDS = ("httpcore", "aiohttp")

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_BACKEND = TEST_DEFAULT_BACKEND
if DEFAULT_BACKEND not in BACKENDS:
    raise pytest.UsageError(
        f"HOLYSHEEP_TEST_POOL_BACKEND must be one of {BACKENDS}, not {DEFAULT_BACKEND!r}"
    )


@pytest.fixture(autouse=True, scope="session")
def _default_pool_backend() -> Iterator[None]:
    """Under ``HOLYSHEEP_TEST_POOL_BACKEND``, pools naming no backend use it."""
    if DEFAULT_BACKEND == "aiohttp":
        yield
        return
    from holysheep_client._transports import pool as module

    build = module.build_pool_transport

    def on_default(config: Any, **kw: Any) -> Any:
        if "backend" not in config.model_fields_set:
            config = config.model_copy(update={"backend": DEFAULT_BACKEND})
        return build(config, **kw)

    module.build_pool_transport = on_default  # type: ignore[assignment]
    try:
        yield
    finally:
        module.build_pool_transport = build


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
