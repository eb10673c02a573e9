"""
Lint rules for KEDA ScaledObjects and the PromQL they scale on: removed fields, missing
trigger parameters, fallbacks KEDA rejects, and ``rate()`` over a gauge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index

__all__ = ["KEDA_RULES", "COUNTER_SUFFIXES", "rated_gauges"]

COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
"""Prometheus's naming for counters and the counter series of histograms and
summaries: the only metrics ``rate()``, ``irate()`` and ``increase()`` make sense of."""
_RATED = re.compile(
    r"\b(rate|irate|increase)\s*\(\s*"
    r"(?:([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{[^}]*\})?"
    r"|\{[^}]*__name__\s*=\s*\"([A-Za-z_:][A-Za-z0-9_:]*)\"[^}]*\})"
    r"\s*\["
)


def rated_gauges(query: str) -> list[tuple[str, str]]:
    """
    ``(function, metric)`` for every ``rate``/``irate``/``increase`` of a metric whose
    name is not a counter's in a PromQL expression.
    """
    found = []
    for m in _RATED.finditer(query):
        metric = m.group(2) or m.group(3)
        if metric and not metric.endswith(COUNTER_SUFFIXES):
            found.append((m.group(1), metric))
    return found


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _keda(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for so in index.docs:
        if so.kind != "ScaledObject":
            continue
        if str(so.data.get("apiVersion", "")).startswith("keda.k8s.io/"):
            yield _f(
                so,
                "keda-removed-field",
                "apiVersion keda.k8s.io is KEDA 1's,"
                " removed in KEDA 2: use keda.sh/v1alpha1",
            )
        spec = so.data.get("spec") or {}
        if "deploymentName" in (spec.get("scaleTargetRef") or {}):
            yield _f(
                so,
                "keda-removed-field",
                "scaleTargetRef.deploymentName was removed"
                " in KEDA 2: use scaleTargetRef.name",
            )
        triggers = [t for t in spec.get("triggers") or [] if isinstance(t, Mapping)]
        for i, t in enumerate(triggers):
            yield from _trigger(so, i, t)
        fallback = spec.get("fallback")
        if fallback and triggers:
            kinds = {str(t.get("type")) for t in triggers}
            if kinds <= {"cpu", "memory"}:
                yield _f(
                    so,
                    "keda-fallback",
                    "fallback needs a trigger other than cpu or"
                    " memory; KEDA rejects this ScaledObject",
                )
            for i, t in enumerate(triggers):
                metric = t.get("metricType")
                if t.get("type") not in ("cpu", "memory") and metric not in (
                    None,
                    "AverageValue",
                ):
                    yield _f(
                        so,
                        "keda-fallback",
                        f"triggers[{i}] has metricType {metric};"
                        " fallback works only with AverageValue",
                    )


_REQUIRED = {
    "cpu": ("value",),
    "memory": ("value",),
    "prometheus": ("serverAddress", "query", "threshold"),
}


def _trigger(so: Doc, i: int, t: Mapping[str, Any]) -> Iterator[Finding]:
    kind = str(t.get("type"))
    raw = t.get("metadata")
    meta: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    where = f"triggers[{i}] ({kind})"
    if "metricName" in meta:
        yield _f(
            so,
            "keda-removed-field",
            f"{where} metadata.metricName was removed in"
            " KEDA 2.12; KEDA names the metric itself",
        )
    if kind in ("cpu", "memory") and "type" in meta:
        yield _f(
            so,
            "keda-removed-field",
            f"{where} metadata.type was removed in KEDA"
            " 2.18: set the trigger's metricType instead",
        )
    for param in _REQUIRED.get(kind, ()):
        if param not in meta:
            hint = " ('address' is not a parameter)" if "address" in meta else ""
            yield _f(
                so, "keda-trigger-metadata", f"{where} needs metadata.{param}{hint}"
            )


def _gauge_message(where: str, func: str, metric: str) -> str:
    return (
        f"{where} takes {func}() of {metric}, a gauge by its name (no"
        f" {', '.join(COUNTER_SUFFIXES)}): {func}() reads every fall of a gauge as a"
        " counter reset, so the result tracks neither its level nor its growth; use"
        f" the gauge itself (sum({metric})), or {func}() of a counter"
    )


def _rate_gauge(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for so in index.of_kind("ScaledObject"):
        triggers = (so.data.get("spec") or {}).get("triggers") or []
        for i, t in enumerate(triggers):
            if not isinstance(t, Mapping) or t.get("type") != "prometheus":
                continue
            query = (t.get("metadata") or {}).get("query")
            if isinstance(query, str):
                for func, metric in rated_gauges(query):
                    where = f"triggers[{i}] (prometheus) query"
                    yield _f(
                        so, "promql-rate-gauge", _gauge_message(where, func, metric)
                    )
    for rule_set in index.of_kind("PrometheusRule"):
        groups = (rule_set.data.get("spec") or {}).get("groups") or []
        for group in groups:
            for rule in (group or {}).get("rules") or []:
                expr = (rule or {}).get("expr")
                name = rule.get("record") or rule.get("alert") or "a rule"
                if isinstance(expr, str):
                    for func, metric in rated_gauges(expr):
                        where = f"{name} in group {group.get('name')}"
                        yield _f(
                            rule_set,
                            "promql-rate-gauge",
                            _gauge_message(where, func, metric),
                        )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
KEDA_RULES: tuple[_Rule, ...] = (_keda, _rate_gauge)
