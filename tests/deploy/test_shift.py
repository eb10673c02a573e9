"""
The traffic shift: a guarded JSON patch that yields the requested split.
"""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from holysheep_client import ConfigError
from holysheep_client.deploy import check, lint, reference_stack, render, shift_patch
from holysheep_client.deploy._cli import main

from .conftest import one


def _split(vs: dict[str, Any]) -> dict[str, int]:
    return {
        d["destination"]["host"]: d["weight"] for d in vs["spec"]["http"][0]["route"]
    }


@pytest.mark.parametrize("weight", [0, 5, 25, 75, 100])
def test_patch_yields_the_split(stack: list[dict[str, Any]], weight: int) -> None:
    """Applying the patch to the rendered VirtualService gives N% to holysheep, summing to 100."""
    vs = one(stack, "VirtualService")
    patched = jsonpatch.apply_patch(vs, shift_patch(weight))
    split = _split(patched)
    assert split == {
        "deerflow-api-legacy": 100 - weight,
        "deerflow-api-holysheep": weight,
    }
    assert sum(split.values()) == 100


def test_test_ops_guard_the_indexes(stack: list[dict[str, Any]]) -> None:
    """On a VirtualService whose destinations were reordered, the patch fails as a whole."""
    vs = copy.deepcopy(one(stack, "VirtualService"))
    vs["spec"]["http"][0]["route"].reverse()
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        jsonpatch.apply_patch(vs, shift_patch(30))


def test_patch_from_a_given_virtual_service(stack: list[dict[str, Any]]) -> None:
    """Given the VirtualService, the patch finds the route and destinations wherever they are."""
    vs = copy.deepcopy(one(stack, "VirtualService"))
    vs["spec"]["http"][0]["route"].reverse()
    patched = jsonpatch.apply_patch(vs, shift_patch(30, virtual_service=vs))
    assert _split(patched) == {"deerflow-api-holysheep": 30, "deerflow-api-legacy": 70}


@pytest.mark.parametrize("weight", [-1, 101])
def test_weight_out_of_range_raises(weight: int) -> None:
    """shift_patch rejects weights outside 0..100."""
    with pytest.raises(ConfigError):
        shift_patch(weight)


@pytest.mark.parametrize(
    "value", ["-1", "101", "abc", "5.5"], ids=["negative", "over", "word", "float"]
)
def test_cli_weight_out_of_range_exits_2(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`shift --weight` outside 0..100 exits 2 with a one-line reason."""
    assert main(["shift", "--weight", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "between 0 and 100" in err


def test_cli_prints_the_patch(
    stack: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`shift --weight N` prints the JSON patch, which applies cleanly."""
    assert main(["shift", "--weight", "25"]) == 0
    patch = json.loads(capsys.readouterr().out)
    assert [op["op"] for op in patch] == ["test", "test", "replace", "replace"]
    assert (
        _split(jsonpatch.apply_patch(one(stack, "VirtualService"), patch))[
            "deerflow-api-holysheep"
        ]
        == 25
    )


def test_cli_phase_uses_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    """`shift --phase canary` takes the canary phase's 5% from the migration config."""
    assert main(["shift", "--phase", "canary"]) == 0
    assert json.loads(capsys.readouterr().out)[-1] == {
        "op": "replace",
        "path": "/spec/http/0/route/1/weight",
        "value": 5,
    }
    assert main(["shift", "--phase", "nope"]) == 2


def test_cli_kubectl_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`--kubectl` prints a complete, shell-quoted kubectl patch command."""
    assert main(["shift", "--weight", "5", "--kubectl", "--namespace", "ns1"]) == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:5] == [
        "kubectl",
        "-n",
        "ns1",
        "patch",
        "virtualservice.networking.istio.io",
    ]
    assert words[5] == "deerflow-api" and words[6] == "--type=json"
    assert json.loads(words[-1]) == shift_patch(5)


def test_cli_from_file(
    stack: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--from FILE` reads the VirtualService to find the indexes."""
    vs = copy.deepcopy(one(stack, "VirtualService"))
    vs["spec"]["http"][0]["route"].reverse()
    path = tmp_path / "vs.yaml"
    path.write_text(yaml.safe_dump(vs))
    assert main(["shift", "--weight", "40", "--from", str(path)]) == 0
    patch = json.loads(capsys.readouterr().out)
    assert _split(jsonpatch.apply_patch(vs, patch))["deerflow-api-holysheep"] == 40


def test_our_patch_passes_the_patch_lint(
    stack: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` on the rendered set plus our patch file finds nothing wrong with the patch."""
    from holysheep_client.deploy import Patch

    ops = tuple((o["op"], o["path"]) for o in shift_patch(5))
    assert not [
        f
        for f in lint(stack, [Patch(ops, "shift.json", "deerflow-api")])
        if f.rule == "patch-path"
    ]
    manifests = tmp_path / "stack.yaml"
    manifests.write_text(render(reference_stack()))
    patch = tmp_path / "shift.json"
    patch.write_text(json.dumps(shift_patch(5)))
    assert (
        main(["check", str(manifests), str(patch), "--disable", "not-schema-checked"])
        == 0
    )
    assert "patch-path" not in capsys.readouterr().out
    assert not [f for f in check(stack) if f.severity == "error"]
