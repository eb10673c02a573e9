"""
`check`: the rendered set is clean, the seed's set shows every defect, schemas work offline.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from holysheep_client.deploy import (
    check,
    load_manifests,
    reference_stack,
    structural_to_jsonschema,
)
from holysheep_client.deploy._cli import main
from holysheep_client.deploy._crd import load_schemas

from .conftest import DATA, one

SEED = [str(DATA / "seed-manifests.yaml"), str(DATA / "migrate_traffic.sh")]

# Each defect the issue lists, by the rule that reports it.
SEED_DEFECTS = {
    "vs-unreachable-route": "holysheep-route",  # two catch-all routes
    "patch-path": "never reached",  # the script patches the dead route
    "one-autoscaler": "ScaledObject/deerflow-scaler and HorizontalPodAutoscaler/deerflow-hpa",
    "quota-capacity": "requests.cpu 50 > 32",
    "fixed-replicas": "spec.replicas: 3",
    "vs-host-service": "deerflow-api-holysheep has no Service",
    "pdb-missing": "no PodDisruptionBudget",
    "grace-period": "30 (the default)",
    "placeholder-secret": "holysheep-api-key, legacy-api-key",
    "keda-removed-field": "metricName",
}


@pytest.mark.parametrize("autoscaler", ["keda", "hpa"])
def test_rendered_set_passes_every_schema_and_rule(
    autoscaler: str, schemas: Path
) -> None:
    """The reference stack has no error and no warning against all schemas and rules."""
    findings = check(reference_stack(autoscaler=autoscaler), schemas=schemas)  # type: ignore[arg-type]
    assert [str(f) for f in findings if f.severity != "info"] == []


def test_without_schema_folder_crds_are_warned_not_failed() -> None:
    """Without --schemas, custom resources are reported as not schema-checked, as warnings."""
    findings = check(reference_stack())
    unchecked = [f for f in findings if f.rule == "not-schema-checked"]
    assert {f.subject.split("/")[0] for f in unchecked} == {
        "ScaledObject",
        "VirtualService",
    }
    assert all(f.severity == "warning" for f in unchecked)
    assert not [f for f in findings if f.severity == "error"]


@pytest.mark.parametrize(
    ("rule", "text"), sorted(SEED_DEFECTS.items()), ids=sorted(SEED_DEFECTS)
)
def test_seed_defect_reported(rule: str, text: str) -> None:
    """Checking the seed's manifests reports this defect as an error, by its rule id."""
    docs, patches, _ = load_manifests(SEED)
    findings = check(docs, patches=patches)
    matching = [f for f in findings if f.rule == rule and f.severity == "error"]
    assert any(text in f.message or text in f.subject for f in matching), [
        str(f) for f in findings
    ]


@pytest.mark.parametrize("with_schemas", [False, True], ids=["lint-only", "schemas"])
def test_seed_check_exits_1(
    with_schemas: bool,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`check` on the seed's files prints findings and exits 1, with or without CRDs."""
    extra = (
        ["--schemas", str(request.getfixturevalue("schemas"))] if with_schemas else []
    )
    assert main(["check", *SEED, *extra]) == 1
    out = capsys.readouterr().out
    assert "[vs-unreachable-route]" in out
    assert "YOUR_HOLYSHEEP_API_KEY" not in out and "sk-legacy-xxxxx" not in out


def test_rendered_files_check_clean(
    tmp_path: Path, schemas: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`render --out` then `check` on the folder's files exits 0."""
    assert main(["--out", str(tmp_path)]) == 0
    capsys.readouterr()
    files = sorted(str(p) for p in tmp_path.iterdir())
    assert main(["check", *files, "--schemas", str(schemas)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_crd_schema_errors(stack: list[dict[str, Any]], schemas: Path) -> None:
    """Unknown fields, non-string trigger metadata and both CEL rules are schema errors."""
    docs = copy.deepcopy(stack)
    so = one(docs, "ScaledObject", "deerflow-api-legacy")
    so["spec"]["minReplicaCount"] = 30
    so["spec"]["triggers"][2]["metadata"]["threshold"] = 100
    vs = one(docs, "VirtualService")
    vs["spec"]["http"][0]["bogus"] = True
    vs["spec"]["http"][0]["retries"]["perTryTimeout"] = "500us"
    messages = [
        f"{f.subject} {f.message}"
        for f in check(docs, schemas=schemas)
        if f.rule == "schema"
    ]
    assert any("minReplicaCount must be less than or equal" in m for m in messages)
    assert any("threshold: 100 is not of type 'string'" in m for m in messages)
    assert any("'bogus' was unexpected" in m for m in messages)
    assert any("perTryTimeout: must be a valid duration" in m for m in messages)


def test_core_schema_is_strict(stack: list[dict[str, Any]]) -> None:
    """An unknown field in a core kind fails the Kubernetes schema in strict mode."""
    docs = copy.deepcopy(stack)
    one(docs, "Service", "deerflow-api")["spec"]["selectr"] = {}
    errors = [f for f in check(docs) if f.rule == "schema"]
    assert len(errors) == 1 and "'selectr' was unexpected" in errors[0].message


def test_missing_kubernetes_validate_degrades(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without kubernetes-validate the check warns, naming the package, and still lints."""
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)
    findings = check(reference_stack())
    warning = [f for f in findings if "kubernetes-validate" in f.message]
    assert len(warning) == 1 and warning[0].severity == "warning"
    assert not [f for f in findings if f.severity == "error"]


def test_secret_values_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Secret's values appear in no finding, even when one has the wrong type."""
    path = tmp_path / "secret.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        "stringData: {a: sk-live-abcdef123456, b: 987654321}\n"
    )
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "sk-live-abcdef123456" not in out and "987654321" not in out
    assert "[secret-in-manifest]" in out and "[schema]" in out


def test_structural_conversion() -> None:
    """nullable becomes a null type, objects turn strict, the root gains apiVersion/kind/metadata."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"n": {"type": "integer", "nullable": True}},
            },
            "free": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {},
            },
        },
    }
    out = structural_to_jsonschema(schema)
    assert out["additionalProperties"] is False
    assert set(out["properties"]) >= {"apiVersion", "kind", "metadata", "spec"}
    assert out["properties"]["spec"]["properties"]["n"]["type"] == ["integer", "null"]
    assert out["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in out["properties"]["free"]
    assert "nullable" in schema["properties"]["spec"]["properties"]["n"]


def test_schema_folder_holds_both_crds(schemas: Path) -> None:
    """The CRD folder yields ScaledObject and all three served VirtualService versions."""
    kinds = load_schemas(schemas).kinds()
    assert ("keda.sh/v1alpha1", "ScaledObject") in kinds
    for version in ("v1", "v1beta1", "v1alpha3"):
        assert (f"networking.istio.io/{version}", "VirtualService") in kinds


def test_unparsable_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not YAML is reported as an error finding, exit 1."""
    path = tmp_path / "broken.yaml"
    path.write_text("a: [\n")
    assert main(["check", str(path)]) == 1
    assert "not valid YAML" in capsys.readouterr().out


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is a usage error: exit 2 with one line."""
    assert main(["check", "/nonexistent/x.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err


def test_malformed_manifests_never_crash(
    schemas: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Manifests of the wrong shape give schema errors and rule warnings, not a crash."""
    assert main(["check", str(DATA / "malformed.yaml"), "--schemas", str(schemas)]) == 1
    out = capsys.readouterr().out
    assert "[schema]" in out and "Traceback" not in out
