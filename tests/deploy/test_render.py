"""
Rendering: stable install order, multi-document YAML that yamllint accepts, JSON, folders.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from holysheep_client.deploy import (
    INSTALL_ORDER,
    prerequisites,
    reference_stack,
    render,
    write_dir,
)

# yamllint's defaults, with room for sha256 checksums and PromQL queries that don't fold.
YAMLLINT = YamlLintConfig("extends: default\nrules:\n  line-length:\n    max: 120\n")


def test_namespace_first_then_helm_order(stack: list[dict[str, Any]]) -> None:
    """Objects come in Helm's install order, Namespace first, custom resources last."""
    kinds = [d["kind"] for d in stack]
    assert kinds[0] == "Namespace"
    known = [k for k in kinds if k in INSTALL_ORDER]
    assert known == sorted(known, key=INSTALL_ORDER.index)
    assert kinds[-5:] == [
        "ScaledObject",
        "ScaledObject",
        "ServiceEntry",
        "ServiceEntry",
        "VirtualService",
    ]


def test_render_is_stable() -> None:
    """Rendering the same stack twice, in any input order, gives the same text."""
    objects = reference_stack()
    assert render(objects) == render(tuple(reversed(objects)))


def test_yaml_is_multi_document_and_loads_back(stack: list[dict[str, Any]]) -> None:
    """The YAML has one document per object and loads back to the same data."""
    text = render(stack)
    assert text.count("\n---\n") + text.startswith("---\n") == len(stack)
    assert list(yaml.safe_load_all(text)) == stack


def test_yamllint_passes() -> None:
    """yamllint finds nothing in the rendered YAML, for both autoscalers."""
    for autoscaler in ("keda", "hpa"):
        text = render(
            reference_stack(autoscaler=autoscaler),
            header=prerequisites(reference_stack()),
        )
        problems = list(linter.run(text, YAMLLINT))
        assert problems == [], [str(p) for p in problems]


def test_embedded_config_is_a_block_string() -> None:
    """The ConfigMap's config.yaml is written as a literal block, not a quoted string."""
    text = render(reference_stack())
    assert "  config.yaml: |\n    providers:\n" in text


def test_json_is_a_list(stack: list[dict[str, Any]]) -> None:
    """The JSON format is one v1 List holding every object in order."""
    data = json.loads(render(stack, format="json"))
    assert data["kind"] == "List"
    assert data["items"] == stack


def test_header_lines_are_comments() -> None:
    """Header lines go before the first document as YAML comments."""
    text = render(reference_stack(), header=["one", "two"])
    assert text.startswith("# one\n# two\n---\n")


def test_prerequisites_say_how_to_create_the_secret() -> None:
    """The notes name the missing Secret, its keys and a command that reads the environment."""
    notes = "\n".join(prerequisites(reference_stack()))
    assert "deerflow-secrets" in notes
    assert '--from-literal=holysheep-api-key="$HOLYSHEEP_API_KEY"' in notes
    assert '--from-literal=legacy-api-key="$LEGACY_API_KEY"' in notes


def test_write_dir_one_file_per_object(tmp_path: Path) -> None:
    """A folder gets one numbered file per object, and a Secret's file is private."""
    objects = reference_stack(
        secret_from_env=["HOLYSHEEP_API_KEY"], environ={"HOLYSHEEP_API_KEY": "k"}
    )
    paths = write_dir(objects, tmp_path)
    assert len(paths) == len(objects)
    assert paths[0].name == "01-namespace-deerflow-prod.yaml"
    secret = next(p for p in paths if "-secret-" in p.name)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert yaml.safe_load(paths[0].read_text())["kind"] == "Namespace"
