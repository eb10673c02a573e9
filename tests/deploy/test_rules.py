"""
The rules #16 added or promoted, each on a broken manifest set and a clean one
(``data/rules/<rule>/fail.yaml`` and ``pass.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holysheep_client.deploy import Finding, check, load_manifests
from holysheep_client.deploy._lint_keda import rated_gauges

from .conftest import DATA

RULES_DATA = DATA / "rules"

# rule: (severity, findings expected in fail.yaml, text each one holds, --kube-version)
CASES: dict[str, tuple[str, int, str, str | None]] = {
    "vs-split-leak": ("error", 1, "selects the pods of web-canary, web-stable", None),
    "vs-subset": ("error", 1, "subset v2 of web, which no DestinationRule", None),
    "promql-rate-gauge": ("error", 2, "of queue_depth, a gauge by its name", None),
    "pdb-blocks-drain": ("error", 3, "allows no eviction at minimum scale", None),
    "quota-sidecar": ("error", 1, "only without Istio's sidecar", None),
    "service-target-port": (
        "error",
        1,
        "targetPort 'web' names no container port",
        None,
    ),
    "selector-mismatch": ("error", 1, "does not select the pod template", None),
    "kube-version": ("error", 3, "takes effect from Kubernetes", "1.26"),
    "vs-weights": ("error", 1, "web-canary 5.56%", None),
    "dangling-ref": ("error", 1, "scales Deployment/worker-api", None),
    "mesh-retry-timeout": ("warning", 1, "perTryTimeout 10s is shorter", None),
}


def _check(rule: str, name: str, schemas: list[Path]) -> list[Finding]:
    docs, patches, problems = load_manifests([RULES_DATA / rule / f"{name}.yaml"])
    version = CASES[rule][3]
    return problems + check(
        docs, patches=patches, schemas=schemas, kubernetes_version=version
    )


def test_every_case_has_both_fixtures() -> None:
    """Each rule folder holds a fail.yaml and a pass.yaml, and each folder has a case."""
    folders = {p.name for p in RULES_DATA.iterdir() if p.is_dir()}
    assert folders == set(CASES)
    for rule in CASES:
        assert {p.name for p in (RULES_DATA / rule).iterdir()} == {
            "fail.yaml",
            "pass.yaml",
        }


@pytest.mark.parametrize("rule", sorted(CASES), ids=sorted(CASES))
def test_rule_fires_on_the_broken_set(rule: str, schemas: list[Path]) -> None:
    """The broken set gets the rule's findings at its severity, each saying why."""
    severity, count, text, _ = CASES[rule]
    hits = [f for f in _check(rule, "fail", schemas) if f.rule == rule]
    at_severity = [f for f in hits if f.severity == severity]
    assert len(at_severity) == count, [str(f) for f in hits]
    assert all(text in f.message for f in at_severity), [str(f) for f in at_severity]


@pytest.mark.parametrize("rule", sorted(CASES), ids=sorted(CASES))
def test_rule_is_silent_on_the_clean_set(rule: str, schemas: list[Path]) -> None:
    """The clean set gets no finding of the rule."""
    hits = [f for f in _check(rule, "pass", schemas) if f.rule == rule]
    assert hits == [], [str(f) for f in hits]


@pytest.mark.parametrize("name", ["fail", "pass"])
@pytest.mark.parametrize("rule", sorted(CASES), ids=sorted(CASES))
def test_fixtures_are_valid_manifests(
    rule: str, name: str, schemas: list[Path]
) -> None:
    """Every fixture passes the strict Kubernetes and CRD schemas: only its rule is wrong."""
    errors = [
        str(f)
        for f in _check(rule, name, schemas)
        if f.rule == "schema" and not (rule == "kube-version" and name == "fail")
    ]
    assert errors == []


def test_kube_version_fixture_passes_on_1_30(schemas: list[Path]) -> None:
    """The fields 1.26 lacks are fine on 1.30, where all three are on by default."""
    docs, _, _ = load_manifests([RULES_DATA / "kube-version" / "fail.yaml"])
    findings = check(docs, schemas=schemas, kubernetes_version="1.30")
    assert not [f for f in findings if f.rule in ("kube-version", "schema")]


def test_subset_without_pods_is_a_warning(schemas: list[Path]) -> None:
    """A defined subset whose labels match none of the Service's pods is a warning."""
    docs, _, _ = load_manifests([RULES_DATA / "vs-subset" / "pass.yaml"])
    data = [dict(d.data) for d in docs if d.name != "web-v2" or d.kind != "Deployment"]
    hits = [f for f in check(data, schemas=schemas) if f.rule == "vs-subset"]
    assert [
        (f.severity, "match none of Service/web's pods" in f.message) for f in hits
    ] == [("warning", True)]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("sum(rate(queue_depth[2m]))", [("rate", "queue_depth")]),
        ('irate(queue_depth{pod=~"a-.*"}[1m])', [("irate", "queue_depth")]),
        ('increase({__name__="queue_depth"}[5m])', [("increase", "queue_depth")]),
        ("rate(http_requests_total[5m])", []),
        ("rate(latency_seconds_count[5m]) / rate(latency_seconds_sum[5m])", []),
        ("sum(rate(latency_seconds_bucket[5m])) by (le)", []),
        ("sum(queue_depth)", []),
        ("deriv(queue_depth[5m])", []),
    ],
    ids=[
        "rate",
        "irate-labels",
        "increase-name-selector",
        "counter",
        "count-and-sum",
        "bucket",
        "gauge-summed",
        "deriv",
    ],
)
def test_rated_gauges(query: str, found: list[tuple[str, str]]) -> None:
    """Only rate, irate and increase of a name without a counter suffix are caught."""
    assert rated_gauges(query) == found
