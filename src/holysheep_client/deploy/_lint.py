"""
Cross-object lint rules: mistakes no schema can see because they span objects.

This module holds `lint`, which runs every rule, and the autoscaler rules (one per
workload, no fixed replicas under one). The other rules live by concept: capacity
(``_lint_capacity``), disruption (``_lint_disruption``), selection
(``_lint_services``), the mesh (``_lint_mesh``, ``_lint_split``, ``_lint_patch``),
KEDA and PromQL (``_lint_keda``), references and names (``_lint_refs``) and the
Kubernetes version (``_lint_version``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._findings import RULES, Doc, Finding, Patch, Severity
from ._index import Index
from ._lint_capacity import CAPACITY_RULES, pod_resources
from ._lint_disruption import DISRUPTION_RULES
from ._lint_keda import KEDA_RULES
from ._lint_mesh import MESH_RULES
from ._lint_patch import PATCH_RULES
from ._lint_refs import REF_RULES
from ._lint_services import SERVICE_RULES
from ._lint_split import SPLIT_RULES
from ._lint_version import VERSION_RULES, parse_version

__all__ = ["lint", "pod_resources"]


def _error(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _one_autoscaler(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    groups: dict[tuple[str, str, str], list[Doc]] = {}
    for a in index.autoscalers():
        groups.setdefault((a.scaler.namespace, a.kind, a.name), []).append(a.scaler)
    for (_, kind, name), scalers in groups.items():
        if len(scalers) > 1:
            names = " and ".join(s.ref for s in scalers)
            yield _error(
                scalers[-1],
                "one-autoscaler",
                f"{kind}/{name} is scaled by {names}; KEDA creates an HPA of its own for"
                " a ScaledObject, and two HPAs on one target fight over its replica"
                " count: keep exactly one",
            )


def _fixed_replicas(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for doc in index.of_kind("Deployment", "StatefulSet", "ReplicaSet"):
        replicas = (doc.data.get("spec") or {}).get("replicas")
        scalers = index.scalers_of(doc)
        if replicas is not None and scalers:
            yield _error(
                doc,
                "fixed-replicas",
                f"spec.replicas: {replicas} is written back on every apply, resetting"
                f" what {scalers[0].scaler.ref} scaled it to; leave replicas out",
            )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
WORKLOAD_RULES: tuple[_Rule, ...] = (_one_autoscaler, _fixed_replicas)
ALL_RULES: tuple[_Rule, ...] = (
    *VERSION_RULES,
    *WORKLOAD_RULES,
    *SERVICE_RULES,
    *CAPACITY_RULES,
    *DISRUPTION_RULES,
    *REF_RULES,
    *MESH_RULES,
    *SPLIT_RULES,
    *PATCH_RULES,
    *KEDA_RULES,
)


def lint(
    docs: Iterable[Doc | Mapping[str, Any]],
    patches: Iterable[Patch] = (),
    *,
    disable: Iterable[str] = (),
    kubernetes_version: str | None = None,
) -> list[Finding]:
    """
    Run every cross-object rule over a set of manifests.

    Args:
        docs: The objects (plain dicts, or `Doc` with the file each came from).
        patches: JSON patches to check against the VirtualServices among ``docs``.
        disable: Rule ids to skip.
        kubernetes_version: The cluster's version (``"1.27"``); the ``kube-version``
            rule reports fields it lacks or ignores. Without it that rule is silent.

    Returns:
        The findings, errors first.

    Raises:
        ValueError: ``disable`` names an unknown rule, or the version is not one.
    """
    skipped = set(disable)
    unknown = skipped - set(RULES)
    if unknown:
        raise ValueError(f"unknown rule {sorted(unknown)[0]!r}")
    version = parse_version(kubernetes_version) if kubernetes_version else None
    wrapped = [d if isinstance(d, Doc) else Doc(d) for d in docs]
    index = Index([d for d in wrapped if isinstance(d.data, Mapping)], version)
    patch_list = list(patches)
    findings: list[Finding] = []
    for rule in ALL_RULES:
        try:
            found = list(rule(index, patch_list))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # Malformed input the schema check reports; the other rules still run.
            name = rule.__name__.strip("_").replace("_", "-")
            found = [
                Finding(
                    "warning",
                    "schema",
                    "check",
                    f"the {name} rules could not read these manifests"
                    f" ({type(exc).__name__}); fix the schema errors first",
                )
            ]
        for f in found:
            if f.rule not in skipped and f not in findings:
                findings.append(f)
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: rank[f.severity])
