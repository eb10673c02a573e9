"""
Each lint rule on a small change to the clean reference stack.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from holysheep_client.deploy import RULES, Patch, lint

from .conftest import of_kind, one

Docs = list[dict[str, Any]]


def _pod(docs: Docs, name: str = "deerflow-api-legacy") -> dict[str, Any]:
    pod: dict[str, Any] = one(docs, "Deployment", name)["spec"]["template"]["spec"]
    return pod


def _container(docs: Docs) -> dict[str, Any]:
    container: dict[str, Any] = _pod(docs)["containers"][0]
    return container


def _add_hpa(docs: Docs) -> None:
    docs.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "extra", "namespace": "deerflow-prod"},
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "deerflow-api-legacy",
                },
                "minReplicas": 2,
                "maxReplicas": 20,
            },
        }
    )


def _second_catch_all(docs: Docs) -> None:
    vs = one(docs, "VirtualService")
    route = vs["spec"]["http"][0]
    vs["spec"]["http"] = [
        {"name": "a", "route": [route["route"][0]]},
        {"name": "b", "route": [route["route"][1]]},
    ]


def _so(docs: Docs) -> dict[str, Any]:
    return one(docs, "ScaledObject", "deerflow-api-legacy")


def _remove_pdbs(docs: Docs) -> None:
    docs[:] = [d for d in docs if d["kind"] != "PodDisruptionBudget"]


def _set(
    path: Callable[[Docs], dict[str, Any]], key: str, value: Any
) -> Callable[[Docs], object]:
    def change(docs: Docs) -> None:
        path(docs)[key] = value

    return change


CASES: list[tuple[str, Callable[[Docs], object], str, str]] = [
    ("one-autoscaler", _add_hpa, "error", "fight"),
    (
        "fixed-replicas",
        lambda d: one(d, "Deployment", "deerflow-api-legacy")["spec"].update(
            replicas=3
        ),
        "error",
        "replicas: 3",
    ),
    (
        "quota-capacity",
        lambda d: one(d, "ResourceQuota")["spec"]["hard"].update(
            {"requests.cpu": "32"}
        ),
        "error",
        "> 32",
    ),
    (
        "quota-capacity",
        lambda d: one(d, "ResourceQuota")["spec"]["hard"].update(pods="40"),
        "error",
        "pods 50 > 40",
    ),
    (
        "limitrange-bounds",
        lambda d: _container(d)["resources"]["requests"].update(cpu="5m"),
        "error",
        "outside",
    ),
    (
        "limitrange-bounds",
        lambda d: one(d, "LimitRange")["spec"]["limits"][0]["min"].update(cpu="500m"),
        "warning",
        "sidecar",
    ),
    ("pdb-missing", _remove_pdbs, "error", "no PodDisruptionBudget"),
    (
        "grace-period",
        _set(_pod, "terminationGracePeriodSeconds", 30),
        "error",
        "preStop",
    ),
    ("vs-unreachable-route", _second_catch_all, "error", "never reached"),
    (
        "vs-weights",
        lambda d: [
            r.update(weight=0)
            for r in one(d, "VirtualService")["spec"]["http"][0]["route"]
        ],
        "error",
        "all 0",
    ),
    (
        "vs-weights",
        lambda d: one(d, "VirtualService")["spec"]["http"][0]["route"][0].update(
            weight=50
        ),
        "error",
        "add up to 50, not 100: Istio splits by proportion",
    ),
    (
        "vs-weights",
        lambda d: one(d, "VirtualService")["spec"]["http"][0]["route"][1].pop("weight"),
        "error",
        "gives no weight to deerflow-api-holysheep",
    ),
    (
        "vs-split-leak",
        lambda d: one(d, "Service", "deerflow-api")["spec"].update(
            selector={"app": "deerflow"}
        ),
        "error",
        "selects the pods of deerflow-api-holysheep, deerflow-api-legacy itself",
    ),
    (
        "dangling-ref",
        lambda d: _so(d)["spec"]["scaleTargetRef"].update(name="deerflow-api-legcy"),
        "error",
        "scales nothing",
    ),
    (
        "grace-period",
        lambda d: one(d, "Deployment", "deerflow-api-legacy")["spec"]["template"][
            "metadata"
        ]["annotations"].pop("proxy.istio.io/config"),
        "warning",
        "sidecar stops forwarding 5 s after",
    ),
    (
        "quota-capacity",
        lambda d: one(d, "ResourceQuota")["spec"]["hard"].update(pods="50"),
        "warning",
        "no room for the old pods still terminating",
    ),
    (
        "vs-host-service",
        lambda d: d.remove(one(d, "Service", "deerflow-api-holysheep")),
        "error",
        "no Service",
    ),
    (
        "vs-host-service",
        lambda d: one(d, "VirtualService")["spec"]["http"][0]["route"][0][
            "destination"
        ]["port"].update(number=81),
        "error",
        "port 81",
    ),
    (
        "mesh-retry-timeout",
        lambda d: one(d, "VirtualService")["spec"]["http"][0]["retries"].update(
            perTryTimeout="10s"
        ),
        "warning",
        "the client's whole-call deadline 91.5 s",
    ),
    (
        "keda-removed-field",
        lambda d: _so(d)["spec"]["triggers"][0]["metadata"].update(type="Utilization"),
        "error",
        "2.18",
    ),
    (
        "keda-trigger-metadata",
        lambda d: _so(d)["spec"]["triggers"][2]["metadata"].pop("serverAddress"),
        "error",
        "serverAddress",
    ),
    (
        "keda-fallback",
        lambda d: _so(d)["spec"].update(triggers=_so(d)["spec"]["triggers"][:2]),
        "error",
        "cpu or memory",
    ),
    (
        "dangling-ref",
        lambda d: d.remove(one(d, "ConfigMap", "deerflow-api-legacy-config")),
        "error",
        "ConfigMap",
    ),
    (
        "dangling-ref",
        lambda d: _pod(d)["volumes"][0]["configMap"].update(
            items=[{"key": "nope", "path": "x"}]
        ),
        "error",
        "no such key",
    ),
    (
        "unused-configmap",
        lambda d: d.append(
            {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "orphan", "namespace": "deerflow-prod"},
            }
        ),
        "warning",
        "never reach",
    ),
    (
        "dns1123",
        lambda d: one(d, "Service", "deerflow-api")["metadata"].update(
            name="Deerflow_API"
        ),
        "error",
        "DNS-1123",
    ),
    (
        "dns1123",
        lambda d: _container(d)["ports"][0].update(name="http-port-that-is-long"),
        "error",
        "IANA",
    ),
    (
        "placeholder-secret",
        lambda d: d.append(
            {
                "kind": "Secret",
                "apiVersion": "v1",
                "metadata": {"name": "deerflow-secrets", "namespace": "deerflow-prod"},
                "stringData": {
                    "holysheep-api-key": "<your key>",
                    "legacy-api-key": "changeme",
                },
            }
        ),
        "error",
        "placeholder",
    ),
]


@pytest.mark.parametrize(
    ("rule", "change", "severity", "text"),
    CASES,
    ids=[f"{rule}-{i}" for i, (rule, *_) in enumerate(CASES)],
)
def test_rule_fires(
    stack: Docs, rule: str, change: Callable[[Docs], object], severity: str, text: str
) -> None:
    """The rule reports the change, at the expected severity, and says why."""
    docs = copy.deepcopy(stack)
    change(docs)
    hits = [f for f in lint(docs) if f.rule == rule and f.severity == severity]
    assert any(text in f.message for f in hits), [str(f) for f in lint(docs)]


def test_clean_stack_has_no_findings_but_notes(stack: Docs) -> None:
    """The reference stack triggers no rule, apart from the note on the external Secret."""
    assert {(f.rule, f.severity) for f in lint(stack)} == {("dangling-ref", "info")}


def test_every_rule_is_exercised() -> None:
    """Every lint rule id has a case here, in the rule fixtures or in the seed test."""
    from .test_rules import CASES as FIXTURES

    covered = (
        {rule for rule, *_ in CASES}
        | set(FIXTURES)
        | {
            "patch-path",
            "secret-in-manifest",
            "schema",
            "not-schema-checked",
        }
    )
    assert covered == set(RULES)


def test_patch_paths(stack: Docs) -> None:
    """A patch past the routes, or without a test op, is reported; a guarded good one is not."""
    bad = Patch((("replace", "/spec/http/3/route/0/weight"),), "p.json", "deerflow-api")
    good = Patch(
        (
            ("test", "/spec/http/0/route/1/destination/host"),
            ("replace", "/spec/http/0/route/1/weight"),
        ),
        "q.json",
    )
    findings = lint(stack, [bad, good])
    assert [
        f.source for f in findings if f.rule == "patch-path" and f.severity == "error"
    ] == ["p.json"]
    assert [
        f.source for f in findings if f.rule == "patch-path" and f.severity == "warning"
    ] == ["p.json"]


def test_disable_skips_a_rule(stack: Docs) -> None:
    """A disabled rule reports nothing; an unknown rule id is a ValueError."""
    docs = copy.deepcopy(stack)
    _remove_pdbs(docs)
    assert not [
        f for f in lint(docs, disable=["pdb-missing"]) if f.rule == "pdb-missing"
    ]
    with pytest.raises(ValueError, match="unknown rule"):
        lint(docs, disable=["no-such-rule"])


def test_placeholder_detection() -> None:
    """Typical placeholders are caught and a real-looking key is not."""
    from holysheep_client.deploy._lint_refs import is_placeholder

    for value in (
        "YOUR_HOLYSHEEP_API_KEY",
        "sk-legacy-xxxxx",
        "<key>",
        "${KEY}",
        "changeme",
        "",
    ):
        assert is_placeholder(value), value
    assert not is_placeholder("sk-ant-api03-Zq8r2LmVx7")


def test_hpa_stack_is_clean_too() -> None:
    """The HPA variant of the stack triggers no rule either."""
    from holysheep_client.deploy import as_dicts, reference_stack

    docs = as_dicts(reference_stack(autoscaler="hpa"))
    assert len(of_kind(docs, "HorizontalPodAutoscaler")) == 2
    assert {f.severity for f in lint(docs)} == {"info"}
