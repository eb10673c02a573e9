"""
Lint rules about selection: a workload whose selector misses its own pod template, a
Service that selects no pod in the set, and a Service ``targetPort`` that no selected
container has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, selects

__all__ = ["SERVICE_RULES"]

_WORKLOADS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _selector_mismatch(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for template in index.templates():
        doc = template.owner
        if doc.kind not in _WORKLOADS:
            continue
        selector = (doc.data.get("spec") or {}).get("selector")
        if selector and not selects(selector, template.labels):
            yield _f(
                doc,
                "selector-mismatch",
                "spec.selector does not select the pod template's own labels: the API"
                " server rejects the workload (selector does not match template"
                " labels)",
            )
    namespaces = {t.owner.namespace for t in index.templates()}
    for service in index.of_kind("Service"):
        spec = service.data.get("spec") or {}
        selector = spec.get("selector")
        if not selector or service.namespace not in namespaces:
            continue
        if not index.selected(selector, service.namespace):
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            yield _f(
                service,
                "selector-mismatch",
                f"selects no pod in the set ({shown}): it gets no endpoints, and"
                " calls to it fail",
                "warning",
            )


def _target_ports(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for service in index.of_kind("Service"):
        spec = service.data.get("spec") or {}
        templates = index.selected(spec.get("selector"), service.namespace)
        if not spec.get("selector") or not templates:
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            label = port.get("name") or port.get("port")
            for t in templates:
                declared = [p for c in t.containers() for p in c.get("ports") or []]
                if isinstance(target, str):
                    if not any(p.get("name") == target for p in declared):
                        yield _f(
                            service,
                            "service-target-port",
                            f"port {label}: targetPort {target!r} names no container"
                            f" port of {t.owner.ref}, so its pods get no endpoint for"
                            " it and calls to the port fail",
                        )
                elif isinstance(target, int) and not any(
                    p.get("containerPort") == target for p in declared
                ):
                    yield _f(
                        service,
                        "service-target-port",
                        f"port {label}: targetPort {target} is no containerPort of"
                        f" {t.owner.ref} (declare it, or the app may not listen there)",
                        "warning",
                    )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
SERVICE_RULES: tuple[_Rule, ...] = (_selector_mismatch, _target_ports)
