"""
Lint rules for Istio VirtualServices (route order, weights, hosts, timeouts against
the calls they carry), and the route helpers the split and patch rules share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index
from ._units import parse_duration

__all__ = [
    "MESH_RULES",
    "catch_all_index",
    "route_hosts",
    "route_label",
    "http_routes",
    "service_key",
]

_CATCH_ALL_URIS = ({"prefix": "/"}, {"regex": ".*"}, {"regex": "/.*"})


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def http_routes(vs: Doc) -> list[Mapping[str, Any]]:
    """
    A VirtualService's ``http`` routes that are mappings, in order.
    """
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


def route_label(routes: Sequence[Mapping[str, Any]], i: int) -> str:
    """
    How findings name route ``i``: ``http[0] (name)``.
    """
    name = routes[i].get("name")
    return f"http[{i}] ({name})" if name else f"http[{i}]"


def route_hosts(route: Mapping[str, Any]) -> list[str]:
    """
    The destination hosts of one route, in order.
    """
    return [
        str(((d or {}).get("destination") or {}).get("host"))
        for d in route.get("route") or []
    ]


def _unreachable(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        routes = http_routes(vs)
        first = catch_all_index(routes)
        if first is None:
            continue
        for i in range(first + 1, len(routes)):
            hosts = ", ".join(route_hosts(routes[i])) or "its destinations"
            yield _f(
                vs,
                "vs-unreachable-route",
                f"{route_label(routes, i)} is never reached: {route_label(routes, first)} before it"
                f" has no match and takes every request, so {hosts} get no traffic"
                " whatever the weights; put all weighted destinations in one route",
            )


def _weights(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        routes = http_routes(vs)
        first = catch_all_index(routes)
        for i, route in enumerate(routes[: None if first is None else first + 1]):
            dests = [d or {} for d in route.get("route") or []]
            weights = [d.get("weight") for d in dests]
            where = route_label(routes, i)
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
                elif None in weights:
                    missing = [
                        str((d.get("destination") or {}).get("host"))
                        for d, w in zip(dests, weights, strict=True)
                        if w is None
                    ]
                    yield _f(
                        vs,
                        "vs-weights",
                        f"{where} gives no weight to {', '.join(missing)}, which Istio"
                        " reads as 0: it gets no traffic",
                    )
                elif total != 100:
                    shares = ", ".join(
                        f"{(d.get('destination') or {}).get('host')}"
                        f" {100 * (w or 0) / total:.3g}%"
                        for d, w in zip(dests, weights, strict=True)
                    )
                    yield _f(
                        vs,
                        "vs-weights",
                        f"{where}'s weights add up to {total}, not 100: Istio splits by"
                        f" proportion, so the traffic goes {shares}, not what the"
                        " weights say",
                    )


def service_key(
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
        for route in http_routes(vs):
            for d in route.get("route") or []:
                dest = (d or {}).get("destination") or {}
                port = (dest.get("port") or {}).get("number")
                checks.append((str(dest.get("host")), port, "destination host"))
        seen: set[tuple[str, int | None]] = set()
        namespaces = [n.name for n in index.of_kind("Namespace")]
        for host, port, what in checks:
            key = service_key(host, vs.namespace, namespaces)
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


def _call_time(index: Index, vs: Doc, route: Mapping[str, Any]) -> tuple[float, str]:
    """
    The longest call of the workloads a route reaches, and a description of it.

    When none of the route's Services is in the set, every workload in the
    VirtualService's namespace counts: a route in that namespace most likely reaches
    one of them.
    """
    templates = []
    for host in route_hosts(route):
        key = service_key(host, vs.namespace)
        service = index.get("Service", *key) if key else None
        if service is not None:
            selector = (service.data.get("spec") or {}).get("selector")
            templates += index.selected(selector, service.namespace)
    where = ""
    if not templates:
        templates = [t for t in index.templates() if t.owner.namespace == vs.namespace]
        where = f", the longest in namespace {vs.namespace} (its Services are not in the set)"
    best, what = 0.0, ""
    for t in templates:
        for c in t.containers():
            seconds, text = index.call_deadline(t, c)
            if seconds > best:
                best, what = seconds, text
    return best, f"{what}{where}" if what else ""


def _retry_timeout(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for vs in index.of_kind("VirtualService"):
        all_routes = http_routes(vs)
        for i, route in enumerate(all_routes):
            retries = route.get("retries") or {}
            limits = {
                "perTryTimeout": retries.get("perTryTimeout"),
                "timeout": route.get("timeout"),
            }
            for field, value in limits.items():
                if not isinstance(value, str):
                    continue
                try:
                    seconds = float(parse_duration(value))
                except ValueError:
                    continue
                call, what = _call_time(index, vs, route)
                if seconds < call:
                    again = (
                        f" and sends them again (attempts: {retries['attempts']}),"
                        " on top of the client's own retries"
                        if field == "perTryTimeout" and retries.get("attempts")
                        else ""
                    )
                    yield _f(
                        vs,
                        "mesh-retry-timeout",
                        f"{route_label(all_routes, i)} {field} {value} is shorter than"
                        f" a call of the app it routes to ({what}): the mesh cuts"
                        f" calls the app is still serving{again}",
                        "warning",
                    )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
MESH_RULES: tuple[_Rule, ...] = (
    _unreachable,
    _weights,
    _host_services,
    _retry_timeout,
)
