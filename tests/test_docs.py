"""
Docs snippets: every python block compiles; blocks marked ``<!-- run -->`` also run.

The convention: a fenced ``python`` block directly after a ``<!-- run -->`` line is a
complete program that runs offline (against the fake provider); one after
``<!-- run: fragment -->`` runs inside a coroutine that provides ``client`` (an
`AsyncClient` over in-process fake providers ``legacy`` and ``holysheep``), ``config``,
``msgs`` and ``user_id``. Every block must at least compile (top-level ``await``
allowed), and every block is either run or marked ``<!-- not-run: why -->``.
Snippets run with ``HOLYSHEEP_API_KEY`` and ``LEGACY_API_KEY`` set to test keys.
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


def snippets() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("code"))
            mark = (m.group("mark") or "").strip()
            code = textwrap.dedent(m.group("code"))
            out.append((f"{path.name}:{line}", mark, code))
    return out


SNIPPETS = snippets()
KEYS = {"HOLYSHEEP_API_KEY": "test-key", "LEGACY_API_KEY": "test-key"}


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test keys in the environment, as a deployment would have them."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("where", "mark"), [(w, m) for w, m, _ in SNIPPETS], ids=[w for w, _, _ in SNIPPETS]
)
def test_every_snippet_is_run_or_says_why_not(where: str, mark: str) -> None:
    """Each python block is run by this file, or marked not-run with a reason."""
    ok = mark in ("<!-- run -->", "<!-- run: fragment -->") or re.fullmatch(
        r"<!-- not-run: .+ -->", mark
    )
    assert ok, (
        f"{where}: mark it <!-- run -->, <!-- run: fragment --> or <!-- not-run: why -->"
    )


@pytest.mark.parametrize(
    ("where", "code"), [(w, c) for w, _, c in SNIPPETS], ids=[w for w, _, _ in SNIPPETS]
)
def test_snippet_compiles(where: str, code: str) -> None:
    """The python block is valid Python."""
    compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


RUN = [(w, c) for w, m, c in SNIPPETS if m == "<!-- run -->"]
FRAGMENTS = [(w, c) for w, m, c in SNIPPETS if m == "<!-- run: fragment -->"]


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("where", "code"), RUN, ids=[w for w, _ in RUN])
def test_marked_snippet_runs(where: str, code: str) -> None:
    """A block marked ``<!-- run -->`` runs to the end offline."""
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


@pytest.mark.anyio
@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("where", "code"), FRAGMENTS, ids=[w for w, _ in FRAGMENTS])
async def test_marked_fragment_runs(where: str, code: str) -> None:
    """A block marked ``<!-- run: fragment -->`` runs against a client on fake providers."""
    from holysheep_client import AsyncClient, ClientConfig, ProviderConfig
    from holysheep_client.testing import FakeProvider

    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="legacy",
                base_url="http://legacy.localhost/v1",
                protocol="openai",
                api_key_env="LEGACY_API_KEY",
            ),
            ProviderConfig(
                name="holysheep",
                base_url="http://holysheep.localhost/v1",
                api_key_env="HOLYSHEEP_API_KEY",
            ),
        ]
    )
    fakes = {n: FakeProvider(api_key="test-key") for n in ("legacy", "holysheep")}
    body = textwrap.indent(code, "    ")
    source = f"async def __fragment(client, config, msgs, user_id):\n{body}\n    return None\n"
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(source, where, "exec"), namespace)
    transports = {n: f.async_transport() for n, f in fakes.items()}
    async with AsyncClient(config, transports=transports) as client:
        fragment = namespace["__fragment"]
        await fragment(client, config, [{"role": "user", "content": "hi"}], "user-42")  # type: ignore[operator]


def test_some_snippets_run() -> None:
    """At least the telemetry guide's snippets are executed, not only compiled."""
    assert any(w.startswith("telemetry.md") for w, _ in RUN)
    assert FRAGMENTS


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


def test_every_page_is_in_the_mkdocs_nav() -> None:
    """mkdocs.yml lists every page in docs/, and nothing that is not there."""
    import yaml

    nav = yaml.safe_load((DOCS.parent / "mkdocs.yml").read_text())["nav"]
    listed = {page for entry in nav for page in entry.values()}
    assert listed == {p.name for p in DOCS.glob("*.md")}
