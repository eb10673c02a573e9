"""
Lint rules about taking pods down: disruption budgets that are missing or block every
drain, and shutdowns shorter than the calls they cut (the grace period, and the
sidecar's drain under Istio).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, PodTemplate, selects
from ._rollout import disruptions_allowed
from ._units import parse_duration

__all__ = ["DISRUPTION_RULES"]

_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)")
_ISTIO_DRAIN = 5.0  # Istio's default terminationDrainDuration, in seconds


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _pdb_missing(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    pdbs = index.of_kind("PodDisruptionBudget")
    for template in index.templates():
        doc = template.owner
        if doc.kind not in ("Deployment", "StatefulSet"):
            continue
        low, _ = index.replica_range(doc)
        if low < 2:
            continue
        if not any(
            p.namespace == doc.namespace
            and selects((p.data.get("spec") or {}).get("selector"), template.labels)
            for p in pdbs
        ):
            yield _f(
                doc,
                "pdb-missing",
                "no PodDisruptionBudget selects its pods, so a node drain or cluster"
                " upgrade may evict every replica at once",
            )


def _pdb_blocks_drain(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for pdb in index.of_kind("PodDisruptionBudget"):
        spec = pdb.data.get("spec") or {}
        owners = {
            t.owner.ref: t.owner
            for t in index.selected(spec.get("selector"), pdb.namespace)
            if t.owner.kind != "Pod"
        }
        if not owners:
            continue
        healthy = sum(index.replica_range(o)[0] for o in owners.values())
        given = {k: spec[k] for k in ("minAvailable", "maxUnavailable") if k in spec}
        allowed = disruptions_allowed(
            healthy,
            min_available=given.get("minAvailable"),
            max_unavailable=given.get("maxUnavailable"),
        )
        if allowed != 0:
            continue
        field, value = next(iter(given.items()))
        yield _f(
            pdb,
            "pdb-blocks-drain",
            f"{field}: {value} allows no eviction at minimum scale ({healthy} pod(s) of"
            f" {', '.join(sorted(owners))}): every node drain and cluster upgrade waits"
            " on it until someone deletes the budget; allow one, e.g. maxUnavailable: 1",
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


def _sidecar_drain(template: PodTemplate) -> float:
    raw = template.annotations.get("proxy.istio.io/config")
    if not isinstance(raw, str):
        return _ISTIO_DRAIN
    try:
        config = json.loads(raw)
    except ValueError:
        try:
            config = yaml.safe_load(raw)
        except yaml.YAMLError:
            return _ISTIO_DRAIN
    value = config.get("terminationDrainDuration") if isinstance(config, dict) else None
    try:
        return float(parse_duration(str(value))) if value else _ISTIO_DRAIN
    except ValueError:
        return _ISTIO_DRAIN


def _grace_period(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for template in index.templates():
        grace = template.spec.get("terminationGracePeriodSeconds")
        shown = f"{grace}" if grace is not None else "30 (the default)"
        grace = grace if isinstance(grace, int) else 30
        longest = 0.0
        for c in template.containers():
            stop = _prestop_seconds(c)
            call, what = index.call_deadline(template, c)
            longest = max(longest, stop + call)
            if grace < stop + call or (stop and grace <= stop):
                yield _f(
                    template.owner,
                    "grace-period",
                    f"terminationGracePeriodSeconds {shown} is shorter than container"
                    f" {c.get('name')}'s preStop sleep ({stop:g} s) plus a whole call"
                    f" ({what or 'none set'}): pods are killed mid-request on every"
                    " rollout and scale-down",
                )
        drain = _sidecar_drain(template)
        if longest and drain < longest and index.sidecar_injected(template):
            yield _f(
                template.owner,
                "grace-period",
                f"Istio's sidecar stops forwarding {drain:g} s after the pod is told to"
                f" stop, before the preStop sleep and a call ({longest:g} s) are over,"
                " so the app's last calls fail (unless Istio runs it as a native"
                " sidecar): set terminationDrainDuration in the proxy.istio.io/config"
                " annotation",
                "warning",
            )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
DISRUPTION_RULES: tuple[_Rule, ...] = (_pdb_missing, _pdb_blocks_drain, _grace_period)
