"""
Lint rules about whether a weighted split holds: a host Service that reaches the
tracks' pods itself (so callers outside the VirtualService's reach are split by pod
count), and routes to subsets no DestinationRule defines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, PodTemplate, selects
from ._lint_mesh import http_routes, route_label, service_key

__all__ = ["SPLIT_RULES"]


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _service(index: Index, host: str, namespace: str) -> Doc | None:
    key = service_key(host, namespace)
    return index.get("Service", *key) if key else None


def _subsets(index: Index) -> dict[tuple[str, str], dict[str, Mapping[str, Any]]]:
    """
    ``{(namespace, service): {subset: labels}}`` from every DestinationRule in the set.
    """
    out: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}
    for dr in index.of_kind("DestinationRule"):
        spec = dr.data.get("spec") or {}
        key = service_key(str(spec.get("host", "")), dr.namespace)
        if key is None:
            key = ("", str(spec.get("host", "")))
        found = out.setdefault(key, {})
        for subset in spec.get("subsets") or []:
            if isinstance(subset, Mapping) and subset.get("name"):
                found[str(subset["name"])] = subset.get("labels") or {}
    return out


def _track_pods(
    index: Index,
    vs: Doc,
    dest: Mapping[str, Any],
    subsets: Mapping[tuple[str, str], Mapping[str, Mapping[str, Any]]],
) -> list[PodTemplate]:
    host = str(dest.get("host", ""))
    service = _service(index, host, vs.namespace)
    if service is None:
        return []
    selector = (service.data.get("spec") or {}).get("selector")
    pods = index.selected(selector, service.namespace)
    subset = dest.get("subset")
    if subset:
        labels = subsets.get((service.namespace, service.name), {}).get(str(subset))
        pods = [t for t in pods if labels is not None and selects(labels, t.labels)]
    return pods


def _split_leak(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    subsets = _subsets(index)
    for vs in index.of_kind("VirtualService"):
        spec = vs.data.get("spec") or {}
        for i, route in enumerate(http_routes(vs)):
            weighted = [
                d
                for d in route.get("route") or []
                if isinstance(d, Mapping) and isinstance(d.get("destination"), Mapping)
            ]
            if len(weighted) < 2:
                continue
            tracks: dict[str, set[str]] = {}
            for d in weighted:
                dest = d["destination"]
                name = str(dest.get("host"))
                if dest.get("subset"):
                    name += f" (subset {dest['subset']})"
                pods = _track_pods(index, vs, dest, subsets)
                tracks[name] = {t.owner.ref for t in pods}
            for host in spec.get("hosts") or []:
                front = _service(index, str(host), vs.namespace)
                if front is None:
                    continue
                selector = (front.data.get("spec") or {}).get("selector")
                reached = {
                    t.owner.ref for t in index.selected(selector, front.namespace)
                }
                leaked = sorted(name for name, pods in tracks.items() if pods & reached)
                if len(leaked) < 2:
                    continue
                yield _f(
                    vs,
                    "vs-split-leak",
                    f"{route_label(http_routes(vs), i)} splits {host} by weight, but"
                    f" {front.ref} selects the pods of {', '.join(leaked)} itself: a"
                    " caller without a sidecar, or a gateway this VirtualService is not"
                    " bound to, reaches them by pod count instead, so a track at weight"
                    " 0 still gets its pods' share; give the host Service no selector,"
                    " so only the mesh routes it, or keep those callers out with a"
                    " NetworkPolicy",
                )


def _subset_rules(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    subsets = _subsets(index)
    for vs in index.of_kind("VirtualService"):
        routes = http_routes(vs)
        for i, route in enumerate(routes):
            for d in route.get("route") or []:
                dest = (d or {}).get("destination") or {}
                subset = dest.get("subset")
                if not subset:
                    continue
                host = str(dest.get("host", ""))
                service = _service(index, host, vs.namespace)
                key = (service.namespace, service.name) if service else ("", host)
                defined = subsets.get(key, {})
                if str(subset) not in defined:
                    yield _f(
                        vs,
                        "vs-subset",
                        f"{route_label(routes, i)} routes to subset {subset} of {host},"
                        " which no DestinationRule in the set defines: the sidecar has"
                        " no cluster for it and answers 503",
                    )
                    continue
                if service is None:
                    continue
                selector = (service.data.get("spec") or {}).get("selector")
                pods = index.selected(selector, service.namespace)
                labels = defined[str(subset)]
                if pods and not any(selects(labels, t.labels) for t in pods):
                    yield _f(
                        vs,
                        "vs-subset",
                        f"{route_label(routes, i)} routes to subset {subset} of {host},"
                        f" whose labels match none of {service.ref}'s pods: it has no"
                        " endpoints and answers 503",
                        "warning",
                    )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
SPLIT_RULES: tuple[_Rule, ...] = (_split_leak, _subset_rules)
