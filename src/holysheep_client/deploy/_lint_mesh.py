"""
Lint rules for traffic and scaling add-ons: Istio VirtualServices (route order, weights,
hosts, retry timeouts), JSON patches against them, and KEDA ScaledObjects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, request_timeout, selects
from ._units import parse_duration

__all__ = ["MESH_RULES", "catch_all_index"]

_CATCH_ALL_URIS = ({"prefix": "/"}, {"regex": ".*"}, {"regex": "/.*"})
_PATH = re.compile(r"^/spec/http/(\d+)(?:/route/(\d+))?(/.*)?$")


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _routes(vs: Doc) -> list[Mapping[str, Any]]:
    http = (vs.data.get("spec") or {}).get("http") or []
    return [r for r in http if isinstance(r, Mapping)]


def _is_catch_all(route: Mapping[str, Any]) -> bool:
    matches = route.get("match")
    if not matches:
        return True
    for m in matches:
        conditions = {k: v for k, v in (m or {}).items() if k != "name" and v}
        if not conditions or (
            set(conditions) == {"uri"} and conditions["uri"] in _CATCH_ALL_URIS
        ):
            return True
    return False


def catch_all_index(routes: Sequence[Mapping[str, Any]]) -> int | None:
    """
    The index of the first route that matches every request, if any.
    """
    return next((i for i, r in enumerate(routes) if _is_catch_all(r)), None)


def _label(routes: Sequence[Mapping[str, Any]], i: int) -> str:
    name = routes[i].get("name")
    return f"http[{i}] ({name})" if name else f"http[{i}]"


def _hosts(route: Mapping[str, Any]) -> list[str]:
    return [
        str(((d or {}).get("destination") or {}).get("host"))
        for d in route.get("route") or []
    ]


def _unreachable(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        routes = _routes(vs)
        first = catch_all_index(routes)
        if first is None:
            continue
        for i in range(first + 1, len(routes)):
            hosts = ", ".join(_hosts(routes[i])) or "its destinations"
            yield _f(
                vs,
                "vs-unreachable-route",
                f"{_label(routes, i)} is never reached: {_label(routes, first)} before it"
                f" has no match and takes every request, so {hosts} get no traffic"
                " whatever the weights; put all weighted destinations in one route",
            )


def _weights(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        routes = _routes(vs)
        first = catch_all_index(routes)
        for i, route in enumerate(routes[: None if first is None else first + 1]):
            dests = [d or {} for d in route.get("route") or []]
            weights = [d.get("weight") for d in dests]
            where = _label(routes, i)
            if len(dests) == 1 and weights[0] not in (None, 100):
                yield _f(
                    vs,
                    "vs-weights",
                    f"{where} has one destination, which takes all"
                    f" its traffic: weight {weights[0]} is ignored",
                    "warning",
                )
            elif len(dests) > 1 and any(w is not None for w in weights):
                total = sum(w for w in weights if isinstance(w, int))
                if total == 0:
                    yield _f(vs, "vs-weights", f"{where}'s weights are all 0")
                elif total != 100 or None in weights:
                    yield _f(
                        vs,
                        "vs-weights",
                        f"{where}'s weights add up to {total}, not 100",
                        "warning",
                    )


def _service_key(
    host: str, namespace: str, namespaces: Iterable[str] = ()
) -> tuple[str, str] | None:
    """
    (namespace, name) of the Service a mesh host names; ``None`` for external hosts.
    """
    if "*" in host:
        return None
    if "." not in host:
        return namespace, host
    parts = host.split(".")
    if host.endswith(".svc.cluster.local") or (len(parts) == 3 and parts[2] == "svc"):
        return parts[1], parts[0]
    if len(parts) == 2 and parts[1] in {namespace, *namespaces}:
        return parts[1], parts[0]
    return None


def _host_services(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        spec = vs.data.get("spec") or {}
        gateways = spec.get("gateways") or ["mesh"]
        checks: list[tuple[str, int | None, str]] = []
        if "mesh" in gateways:
            checks += [(str(h), None, "host") for h in spec.get("hosts") or []]
        for route in _routes(vs):
            for d in route.get("route") or []:
                dest = (d or {}).get("destination") or {}
                port = (dest.get("port") or {}).get("number")
                checks.append((str(dest.get("host")), port, "destination host"))
        seen: set[tuple[str, int | None]] = set()
        namespaces = [n.name for n in index.of_kind("Namespace")]
        for host, port, what in checks:
            key = _service_key(host, vs.namespace, namespaces)
            if key is None or (host, port) in seen:
                continue
            seen.add((host, port))
            service = index.get("Service", key[0], key[1])
            if service is None:
                yield _f(
                    vs,
                    "vs-host-service",
                    f"{what} {host} has no Service in the set;"
                    " it does not resolve, and traffic routed to it fails",
                )
                continue
            ports = [
                p.get("port")
                for p in (service.data.get("spec") or {}).get("ports") or []
            ]
            if port is not None and port not in ports:
                yield _f(
                    vs,
                    "vs-host-service",
                    f"{what} {host} port {port} is not a port of {service.ref}",
                )


def _app_timeout(index: Index, vs: Doc, host: str) -> float:
    key = _service_key(host, vs.namespace)
    service = index.get("Service", *key) if key else None
    if service is None:
        return 0.0
    selector = (service.data.get("spec") or {}).get("selector")
    best = 0.0
    for t in index.templates():
        if t.owner.namespace == service.namespace and selects(selector, t.labels):
            for c in t.containers():
                best = max(best, request_timeout(c))
    return best


def _retry_timeout(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        routes = _routes(vs)
        for i, route in enumerate(routes):
            limits = {
                "perTryTimeout": (route.get("retries") or {}).get("perTryTimeout"),
                "timeout": route.get("timeout"),
            }
            for field, value in limits.items():
                if not isinstance(value, str):
                    continue
                try:
                    seconds = float(parse_duration(value))
                except ValueError:
                    continue
                app = max(
                    (_app_timeout(index, vs, h) for h in _hosts(route)), default=0.0
                )
                if seconds < app:
                    yield _f(
                        vs,
                        "mesh-retry-timeout",
                        f"{_label(routes, i)} {field} {value}"
                        f" is shorter than the app's REQUEST_TIMEOUT {app:g} s: the"
                        " mesh cuts calls the app is still serving",
                        "warning",
                    )


def _patch_target(index: Index, patch: Patch) -> Doc | None:
    services = index.of_kind("VirtualService")
    if patch.target is not None:
        services = [v for v in services if v.name == patch.target]
        if patch.namespace:
            services = [v for v in services if v.namespace == patch.namespace]
    return services[0] if len(services) == 1 else None


def _one_patch(index: Index, patch: Patch) -> Iterator[Finding]:
    subject = f"patch of VirtualService/{patch.target or '?'}"

    def pf(message: str, severity: Severity = "error") -> Finding:
        return Finding(severity, "patch-path", subject, message, patch.source)

    vs = _patch_target(index, patch)
    if vs is None:
        yield pf(
            "cannot tell which VirtualService in the set it patches, so its"
            " paths were not checked",
            "warning",
        )
        return
    routes = _routes(vs)
    first = catch_all_index(routes)
    if not any(op == "test" for op, _ in patch.ops):
        yield pf(
            "no 'test' operation checks the hosts at the patched indexes, so a"
            " reordered route silently gets the wrong weight",
            "warning",
        )
    for op, path in patch.ops:
        m = _PATH.match(path)
        if m is None:
            continue
        i, j = int(m.group(1)), m.group(2)
        if i >= len(routes):
            yield pf(
                f"{op} {path} points past the last route of {vs.ref}"
                f" (it has {len(routes)})"
            )
        elif first is not None and i > first:
            yield pf(
                f"{op} {path} changes {_label(routes, i)}, which is never"
                f" reached ({_label(routes, first)} takes every request):"
                " the shift has no effect"
            )
        elif j is not None:
            dests = routes[i].get("route") or []
            if int(j) >= len(dests) and op != "add":
                yield pf(
                    f"{op} {path} points past the last destination of"
                    f" {_label(routes, i)}"
                )
            elif len(dests) == 1 and (m.group(3) or "") == "/weight":
                yield pf(
                    f"{op} {path} sets the weight of the only destination of"
                    f" {_label(routes, i)}, which takes all its traffic"
                    " whatever the weight: the shift has no effect"
                )


def _patch_paths(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for patch in patches:
        yield from _one_patch(index, patch)


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


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
MESH_RULES: tuple[_Rule, ...] = (
    _unreachable,
    _weights,
    _host_services,
    _retry_timeout,
    _patch_paths,
    _keda,
)
