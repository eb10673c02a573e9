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
    ValuesConfig,
    check,
    load_manifests,
    reference_stack,
    structural_to_jsonschema,
)
from holysheep_client.deploy._cli import main
from holysheep_client.deploy._crd import load_schemas

from .conftest import DATA, one, schema_args

SEED = [str(DATA / "seed-manifests.yaml"), str(DATA / "migrate_traffic.sh")]

# The article's eleven defects, by the rule that reports each as an error.
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
    "promql-rate-gauge": "rate() of deerflow_requests_pending",  # defect 8
}


@pytest.mark.parametrize(
    "values",
    [
        ValuesConfig(),
        ValuesConfig(autoscaler="hpa"),
        ValuesConfig(scrape="servicemonitor"),
        ValuesConfig(gateway="istio-ingress/public", hosts=("api.example.com",)),
        ValuesConfig(redis={"mode": "embedded"}),
    ],
    ids=["default", "hpa", "servicemonitor", "gateway", "redis"],
)
def test_rendered_set_passes_every_schema_and_rule(
    values: ValuesConfig, schemas: list[Path]
) -> None:
    """The reference stack has no error and no warning against all schemas and rules."""
    findings = check(reference_stack(values=values), schemas=schemas)
    assert [str(f) for f in findings if f.severity != "info"] == []


@pytest.mark.parametrize(
    "version", [f"1.{minor}" for minor in range(27, 38)], ids=lambda v: f"k8s-{v}"
)
def test_rendered_set_is_clean_on_every_supported_version(
    version: str, schemas: list[Path]
) -> None:
    """From Kubernetes 1.27 (the stated minimum) to 1.37, strict schemas and rules pass."""
    findings = check(reference_stack(), schemas=schemas, kubernetes_version=version)
    assert [str(f) for f in findings if f.severity != "info"] == []


@pytest.mark.parametrize(
    ("version", "rule", "text"),
    [
        ("1.26", "kube-version", "alpha, behind the PDBUnhealthyPodEvictionPolicy"),
        ("1.26", "kube-version", "MatchLabelKeysInPodTopologySpread"),
        ("1.25", "schema", "'unhealthyPodEvictionPolicy' was unexpected"),
        ("1.25", "kube-version", "Kubernetes 1.25 does not know it"),
    ],
    ids=["1.26-pdb", "1.26-spread", "1.25-schema", "1.25-rule"],
)
def test_older_kubernetes_is_reported(version: str, rule: str, text: str) -> None:
    """Below 1.27 the version-dependent fields are errors that say why."""
    findings = check(reference_stack(), kubernetes_version=version)
    assert any(
        f.rule == rule and f.severity == "error" and text in f.message for f in findings
    ), [str(f) for f in findings]


def test_kube_version_option_exits_1_below_the_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --kube-version 1.26` on the rendered files exits 1; 1.27 exits 0."""
    assert main(["--out", str(tmp_path)]) == 0
    files = sorted(str(p) for p in tmp_path.iterdir())
    capsys.readouterr()
    assert main(["check", *files, "--kube-version", "1.26"]) == 1
    assert "[kube-version]" in capsys.readouterr().out
    assert main(["check", *files, "--kube-version", "v1.27.4"]) == 0


@pytest.mark.parametrize("version", ["1.9", "2.0", "one"], ids=["old", "new", "word"])
def test_unsupported_kube_version_exits_2(
    version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version kubernetes-validate has no schemas for is a usage error naming the range."""
    assert main(["check", SEED[0], "--kube-version", version]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("1.25 to 1.37" in err or "expected" in err)


def test_without_schema_folder_crds_are_warned_not_failed() -> None:
    """Without --schemas, custom resources are reported as not schema-checked, as warnings."""
    findings = check(reference_stack())
    unchecked = [f for f in findings if f.rule == "not-schema-checked"]
    assert {f.subject.split("/")[0] for f in unchecked} == {
        "ScaledObject",
        "ServiceEntry",
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


def test_seed_mesh_retry_timeout_fires() -> None:
    """The seed's 10 s per-try timeout is reported against its 30 s request."""
    docs, patches, _ = load_manifests(SEED)
    hits = [f for f in check(docs, patches=patches) if f.rule == "mesh-retry-timeout"]
    assert len(hits) == 1
    assert "perTryTimeout 10s" in hits[0].message
    assert "REQUEST_TIMEOUT 30 s" in hits[0].message
    assert "attempts: 3" in hits[0].message


@pytest.mark.parametrize("with_schemas", [False, True], ids=["lint-only", "schemas"])
def test_seed_check_exits_1(
    with_schemas: bool,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`check` on the seed's files lists every defect and exits 1, with or without CRDs."""
    extra = schema_args(request.getfixturevalue("schemas")) if with_schemas else []
    assert main(["check", *SEED, *extra]) == 1
    out = capsys.readouterr().out
    for rule in [*SEED_DEFECTS, "mesh-retry-timeout"]:
        assert f"[{rule}]" in out, rule
    assert "YOUR_HOLYSHEEP_API_KEY" not in out and "sk-legacy-xxxxx" not in out


def test_rendered_files_check_clean(
    tmp_path: Path, schemas: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`render --out` then `check` on the folder's files exits 0."""
    assert main(["--out", str(tmp_path)]) == 0
    capsys.readouterr()
    files = sorted(str(p) for p in tmp_path.iterdir())
    assert main(["check", *files, *schema_args(schemas)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_crd_schema_errors(stack: list[dict[str, Any]], schemas: list[Path]) -> None:
    """Unknown fields, non-string trigger metadata and the CEL rules are schema errors."""
    docs = copy.deepcopy(stack)
    so = one(docs, "ScaledObject", "deerflow-api-legacy")
    so["spec"]["minReplicaCount"] = 30
    so["spec"]["triggers"][2]["metadata"]["threshold"] = 100
    vs = one(docs, "VirtualService")
    vs["spec"]["http"][0]["bogus"] = True
    vs["spec"]["http"][0]["retries"]["perTryTimeout"] = "500us"
    se = one(docs, "ServiceEntry", "egress-api-holysheep-ai")
    se["spec"]["hosts"] = ["*"]
    se["spec"]["ports"].append(dict(se["spec"]["ports"][0]))
    se["spec"]["ports"][1]["number"] = 70000
    messages = [
        f"{f.subject} {f.message}"
        for f in check(docs, schemas=schemas)
        if f.rule == "schema"
    ]
    assert any("minReplicaCount must be less than or equal" in m for m in messages)
    assert any("threshold: 100 is not of type 'string'" in m for m in messages)
    assert any("'bogus' was unexpected" in m for m in messages)
    assert any("perTryTimeout: must be a valid duration" in m for m in messages)
    assert any("hosts.0: hostname cannot be wildcard" in m for m in messages)
    assert any("ports.1.number: port must be between 1-65535" in m for m in messages)


def test_core_schema_is_strict(stack: list[dict[str, Any]]) -> None:
    """An unknown field in a core kind fails the Kubernetes schema in strict mode."""
    docs = copy.deepcopy(stack)
    one(docs, "Service", "deerflow-api")["spec"]["selectr"] = {}
    errors = [f for f in check(docs) if f.rule == "schema"]
    assert len(errors) == 1 and "'selectr' was unexpected" in errors[0].message


def test_missing_kubernetes_validate_degrades(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without kubernetes-validate the check warns, naming the package, and still lints."""
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)
    monkeypatch.setitem(sys.modules, "kubernetes_validate.utils", None)
    findings = check(reference_stack(), kubernetes_version="1.30")
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


def test_schema_folders_hold_every_crd(schemas: list[Path]) -> None:
    """The folders yield ScaledObject, ServiceMonitor, and three served Istio versions."""
    kinds = load_schemas(*schemas).kinds()
    assert ("keda.sh/v1alpha1", "ScaledObject") in kinds
    assert ("monitoring.coreos.com/v1", "ServiceMonitor") in kinds
    for version in ("v1", "v1beta1", "v1alpha3"):
        assert (f"networking.istio.io/{version}", "VirtualService") in kinds
        assert (f"networking.istio.io/{version}", "ServiceEntry") in kinds


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
    schemas: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Manifests of the wrong shape give schema errors and rule warnings, not a crash."""
    argv = ["check", str(DATA / "malformed.yaml"), *schema_args(schemas)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "[schema]" in out and "Traceback" not in out
