"""
Fixtures for the deploy tests: the rendered reference stack and the CRD schema folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from holysheep_client.deploy import as_dicts, reference_stack

DATA = Path(__file__).parent / "data"


@pytest.fixture
def schemas(shared_dir: Path) -> Path:
    """The CRD schemas of KEDA and Istio from the shared folder."""
    return shared_dir / "schemas"


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
