"""
The public surface: __all__ is complete, sorted, and import stays light.
"""

from __future__ import annotations

import subprocess
import sys

import holysheep_client
from holysheep_client import errors


def test_all_is_sorted_and_complete() -> None:
    """Every public name is in __all__, every __all__ name exists, and it is sorted."""
    public = {n for n in dir(holysheep_client) if not n.startswith("_")}
    modules = {"errors", "testing", "deploy", "otel", "annotations"}
    assert set(holysheep_client.__all__) - {"__version__"} == public - modules
    assert holysheep_client.__all__ == sorted(holysheep_client.__all__)


def test_errors_are_reexported() -> None:
    """Every error class of holysheep_client.errors is importable from the top."""
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert getattr(holysheep_client, name) is obj


def test_import_does_not_load_the_official_sdks() -> None:
    """`import holysheep_client` loads neither anthropic nor openai."""
    code = "import sys, holysheep_client; print('anthropic' in sys.modules, 'openai' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]
