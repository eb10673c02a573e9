"""
Fixtures for the deploy tests: the rendered reference stack and the CRD schema folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from holysheep_client.deploy import as_dicts, reference_stack

DATA = Path(__file__).parent / "data"
CRDS = DATA / "crds"


@pytest.fixture
def schemas(shared_dir: Path) -> list[Path]:
    """KEDA's and Istio's VirtualService CRDs (shared folder), ServiceEntry and ServiceMonitor (test data)."""
    return [shared_dir / "schemas", CRDS]


def schema_args(folders: list[Path]) -> list[str]:
    """``--schemas DIR`` for each folder."""
    return [arg for folder in folders for arg in ("--schemas", str(folder))]


@pytest.fixture
def stack() -> list[dict[str, Any]]:
    """The reference stack with default options, as plain dicts in install order."""
    return as_dicts(reference_stack())


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The documents of one kind."""
    return [d for d in docs if d["kind"] == kind]


def one(
    docs: list[dict[str, Any]], kind: str, name: str | None = None
) -> dict[str, Any]:
    """The single document of a kind (and name)."""
    found = [
        d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
