"""
Docs snippets: every python block compiles; blocks marked ``<!-- run -->`` also run.

The convention: a fenced ``python`` block directly after a ``<!-- run -->`` line is a
complete program that runs offline (against the fake provider); every other python
block must at least compile (top-level ``await`` allowed). Mark a block that can
never run here with ``<!-- not-run: why -->`` so readers know it was left out on
purpose.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

import holysheep_client
import holysheep_client.otel
import holysheep_client.testing

DOCS = Path(__file__).resolve().parents[1] / "docs"
_BLOCK = re.compile(
    r"(?P<mark><!--[^\n]*-->\n)?^[ \t]*```python\n(?P<code>.*?)^[ \t]*```", re.S | re.M
)


def snippets() -> list[tuple[str, bool, str]]:
    out = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("code"))
            run = (m.group("mark") or "").strip() == "<!-- run -->"
            code = textwrap.dedent(m.group("code"))
            out.append((f"{path.name}:{line}", run, code))
    return out


SNIPPETS = snippets()


@pytest.mark.parametrize(
    ("where", "code"), [(w, c) for w, _, c in SNIPPETS], ids=[w for w, _, _ in SNIPPETS]
)
def test_snippet_compiles(where: str, code: str) -> None:
    """The python block is valid Python."""
    compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


RUN = [(w, c) for w, run, c in SNIPPETS if run]


@pytest.mark.parametrize(("where", "code"), RUN, ids=[w for w, _ in RUN])
def test_marked_snippet_runs(where: str, code: str) -> None:
    """A block marked ``<!-- run -->`` runs to the end offline."""
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


def test_some_snippets_run() -> None:
    """At least the telemetry guide's snippets are executed, not only compiled."""
    assert any(w.startswith("telemetry.md") for w, _ in RUN)


@pytest.mark.parametrize(
    "module",
    [holysheep_client, holysheep_client.otel, holysheep_client.testing],
    ids=lambda m: m.__name__,
)
def test_api_reference_lists_every_public_name(module: object) -> None:
    """docs/api.md names every entry of each public module's __all__."""
    text = (DOCS / "api.md").read_text()
    missing = [n for n in module.__all__ if f"`{n}`" not in text]
    assert not missing
