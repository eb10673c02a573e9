"""
Cross-object lint rules: mistakes no schema can see because they span objects.

This module holds the workload rules (autoscalers, replicas, disruption budgets,
shutdown timing, quota and limits) and `lint`, which runs every rule; the reference
and naming rules live in ``_lint_refs`` and the mesh and KEDA rules in ``_lint_mesh``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

from ._findings import RULES, Doc, Finding, Patch, Severity
from ._index import Index, PodTemplate, request_timeout, selects
from ._lint_mesh import MESH_RULES
from ._lint_refs import REF_RULES
from ._units import format_cpu, format_memory, parse_quantity, percent_of

__all__ = ["lint", "pod_resources"]

_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)")
_SIDECAR = {
    ("requests", "cpu"): "sidecar.istio.io/proxyCPU",
    ("requests", "memory"): "sidecar.istio.io/proxyMemory",
    ("limits", "cpu"): "sidecar.istio.io/proxyCPULimit",
    ("limits", "memory"): "sidecar.istio.io/proxyMemoryLimit",
}


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


def _max_replicas(index: Index, doc: Doc) -> tuple[int, int]:
    """
    (min, max) replicas of a workload: its autoscaler's bounds, else spec.replicas.
    """
    scalers = index.scalers_of(doc)
    if scalers:
        return (
            min(a.min_replicas for a in scalers),
            max(a.max_replicas for a in scalers),
        )
    replicas = (doc.data.get("spec") or {}).get("replicas", 1)
    replicas = replicas if isinstance(replicas, int) else 1
    return replicas, replicas


def _pdb_missing(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    pdbs = index.of_kind("PodDisruptionBudget")
    for template in index.templates():
        doc = template.owner
        if doc.kind not in ("Deployment", "StatefulSet"):
            continue
        low, _ = _max_replicas(index, doc)
        if low < 2:
            continue
        if not any(
            p.namespace == doc.namespace
            and selects((p.data.get("spec") or {}).get("selector"), template.labels)
            for p in pdbs
        ):
            yield _error(
                doc,
                "pdb-missing",
                "no PodDisruptionBudget selects its pods, so a node drain or cluster"
                " upgrade may evict every replica at once",
            )


def _prestop_seconds(container: Mapping[str, Any]) -> float:
    handler = ((container.get("lifecycle") or {}).get("preStop")) or {}
    if "sleep" in handler:
        return float((handler["sleep"] or {}).get("seconds", 0))
    command = " ".join(
        str(c) for c in ((handler.get("exec") or {}).get("command") or [])
    )
    m = _SLEEP.search(command)
    return float(m.group(1)) if m else 0.0


def _grace_period(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for template in index.templates():
        grace = template.spec.get("terminationGracePeriodSeconds")
        shown = f"{grace}" if grace is not None else "30 (the default)"
        grace = grace if isinstance(grace, int) else 30
        for c in template.containers():
            stop, request = _prestop_seconds(c), request_timeout(c)
            if grace < stop + request or (stop and grace <= stop):
                yield _error(
                    template.owner,
                    "grace-period",
                    f"terminationGracePeriodSeconds {shown} is shorter than container"
                    f" {c.get('name')}'s preStop sleep ({stop:g} s) plus a request"
                    f" (REQUEST_TIMEOUT {request:g} s): pods are killed mid-request on"
                    " every rollout and scale-down",
                )


def pod_resources(
    template: PodTemplate, defaults: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, dict[str, Fraction]]:
    """
    What one pod requests and is limited to, summed over its containers, with Istio's
    sidecar when its resources are set by annotation.

    Args:
        template: The pod template.
        defaults: A LimitRange item's ``default`` and ``defaultRequest``, applied to
            containers that set none, as the API server does.

    Returns:
        ``{"requests": {"cpu": cores, "memory": bytes}, "limits": {...}}``.
    """
    out: dict[str, dict[str, Fraction]] = {
        "requests": {"cpu": Fraction(0), "memory": Fraction(0)},
        "limits": {"cpu": Fraction(0), "memory": Fraction(0)},
    }
    defaults = defaults or {}
    for c in template.containers():
        res = c.get("resources") or {}
        limits = {**(defaults.get("default") or {}), **(res.get("limits") or {})}
        requests = {
            **(defaults.get("defaultRequest") or {}),
            **limits,
            **(res.get("requests") or {}),
        }
        for field, values in (("requests", requests), ("limits", limits)):
            for resource in ("cpu", "memory"):
                if resource in values:
                    out[field][resource] += parse_quantity(values[resource])
    for (field, resource), annotation in _SIDECAR.items():
        if annotation in template.annotations:
            out[field][resource] += parse_quantity(template.annotations[annotation])
    return out


def _limit_defaults(index: Index, namespace: str) -> dict[str, Mapping[str, str]]:
    for lr in index.of_kind("LimitRange"):
        if lr.namespace != namespace:
            continue
        for item in (lr.data.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                return {k: item.get(k) or {} for k in ("default", "defaultRequest")}
    return {}


def _quota_capacity(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for quota in index.of_kind("ResourceQuota"):
        hard = (quota.data.get("spec") or {}).get("hard") or {}
        need: dict[str, Fraction] = {}
        parts: list[str] = []
        for template in index.templates():
            doc = template.owner
            if doc.namespace != quota.namespace or doc.kind not in (
                "Deployment",
                "StatefulSet",
            ):
                continue
            _, high = _max_replicas(index, doc)
            strategy = (doc.data.get("spec") or {}).get("strategy") or {}
            surge = 0
            if (
                doc.kind == "Deployment"
                and strategy.get("type", "RollingUpdate") != "Recreate"
            ):
                raw = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
                surge = percent_of(raw, high)
            pods = high + surge
            res = pod_resources(template, _limit_defaults(index, doc.namespace))
            for field in ("requests", "limits"):
                for resource, amount in res[field].items():
                    key = f"{field}.{resource}"
                    need[key] = need.get(key, Fraction(0)) + pods * amount
            need["pods"] = need.get("pods", Fraction(0)) + pods
            parts.append(f"{doc.ref} up to {high} replicas + {surge} surge")
        aliases = {"requests.cpu": "cpu", "requests.memory": "memory"}
        short: list[str] = []
        for key, amount in need.items():
            raw = hard.get(key, hard.get(aliases.get(key, ""), None))
            if raw is None or amount <= parse_quantity(raw):
                continue
            if key.endswith("cpu"):
                shown = format_cpu(amount)
            elif key.endswith("memory"):
                shown = format_memory(amount)
            else:
                shown = str(amount)
            short.append(f"{key} {shown} > {raw}")
        if short:
            yield _error(
                quota,
                "quota-capacity",
                f"cannot hold {'; '.join(parts)}: {', '.join(short)}; pods beyond it"
                " stay Pending while the autoscaler asks for them",
            )


def _limitrange_bounds(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    mesh = bool(index.of_kind("VirtualService"))
    for lr in index.of_kind("LimitRange"):
        for item in (lr.data.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            yield from _limit_item(index, lr, item, mesh)


def _limit_item(
    index: Index, lr: Doc, item: Mapping[str, Any], mesh: bool
) -> Iterator[Finding]:
    def q(section: str, resource: str) -> Fraction | None:
        value = (item.get(section) or {}).get(resource)
        return None if value is None else parse_quantity(value)

    for resource in ("cpu", "memory"):
        low, high = q("min", resource), q("max", resource)
        for section in ("default", "defaultRequest"):
            value = q(section, resource)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                yield _error(
                    lr, "limitrange-bounds", f"{section}.{resource} is outside min..max"
                )
        if mesh and low is not None:
            sidecar = parse_quantity({"cpu": "100m", "memory": "128Mi"}[resource])
            if low > sidecar:
                yield _error(
                    lr,
                    "limitrange-bounds",
                    f"min.{resource} {item['min'][resource]} is above what Istio's"
                    f" sidecar requests by default ({'100m' if resource == 'cpu' else '128Mi'}),"
                    " so injected pods are rejected",
                    "warning",
                )
        for template in index.templates():
            if template.owner.namespace != lr.namespace:
                continue
            for c in template.containers():
                res = c.get("resources") or {}
                for section in ("requests", "limits"):
                    raw = (res.get(section) or {}).get(resource)
                    if raw is None:
                        continue
                    value = parse_quantity(raw)
                    if (low is not None and value < low) or (
                        high is not None and value > high
                    ):
                        yield _error(
                            template.owner,
                            "limitrange-bounds",
                            f"container {c.get('name')}'s {section}.{resource} {raw} is"
                            f" outside {lr.ref}'s bounds, so its pods are rejected",
                        )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
WORKLOAD_RULES: tuple[_Rule, ...] = (
    _one_autoscaler,
    _fixed_replicas,
    _quota_capacity,
    _limitrange_bounds,
    _pdb_missing,
    _grace_period,
)


def lint(
    docs: Iterable[Doc | Mapping[str, Any]],
    patches: Iterable[Patch] = (),
    *,
    disable: Iterable[str] = (),
) -> list[Finding]:
    """
    Run every cross-object rule over a set of manifests.

    Args:
        docs: The objects (plain dicts, or `Doc` with the file each came from).
        patches: JSON patches to check against the VirtualServices among ``docs``.
        disable: Rule ids to skip.

    Returns:
        The findings, errors first.

    Raises:
        ValueError: ``disable`` names an unknown rule.
    """
    skipped = set(disable)
    unknown = skipped - set(RULES)
    if unknown:
        raise ValueError(f"unknown rule {sorted(unknown)[0]!r}")
    wrapped = [d if isinstance(d, Doc) else Doc(d) for d in docs]
    index = Index([d for d in wrapped if isinstance(d.data, Mapping)])
    patch_list = list(patches)
    findings: list[Finding] = []
    for rule in (*WORKLOAD_RULES, *REF_RULES, *MESH_RULES):
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
