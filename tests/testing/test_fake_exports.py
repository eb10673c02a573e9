"""
The public surface of holysheep_client.testing.
"""

from __future__ import annotations

import importlib
import pkgutil

import holysheep_client.testing as testing


def test_all_is_sorted_and_importable() -> None:
    """`__all__` is sorted, and every name in it exists."""
    assert testing.__all__ == sorted(testing.__all__)
    for name in testing.__all__:
        assert hasattr(testing, name), name


def test_public_names_are_exported() -> None:
    """The names other code relies on are exported, FakeClock and the script API included."""
    expected = {
        "FakeClock",
        "FakeProvider",
        "FakeServer",
        "FakeAsyncTransport",
        "FakeSyncTransport",
        "Fault",
        "FaultPlan",
        "RecordedRequest",
        "FakeChat",
        "FakeMessage",
        "FakeReply",
        "FakeTool",
        "FakeToolCall",
        "FakeToolResult",
        "json_answer",
        "schema_example",
        "tool_loop",
    }
    assert expected <= set(testing.__all__)


def test_every_module_declares_all() -> None:
    """Each module of the subpackage declares its own `__all__`."""
    for info in pkgutil.iter_modules(testing.__path__):
        module = importlib.import_module(f"holysheep_client.testing.{info.name}")
        assert isinstance(getattr(module, "__all__", None), list), info.name


def test_import_does_not_load_the_sdks() -> None:
    """Importing the testing helpers does not pull in the official SDKs."""
    import subprocess
    import sys

    code = (
        "import sys, holysheep_client.testing\n"
        "print(any(m in sys.modules for m in ('anthropic', 'openai')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
