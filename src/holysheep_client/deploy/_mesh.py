"""
The mesh's view of the app: the entry Service callers name, the VirtualService that
splits it between the tracks (for sidecars and, optionally, a gateway), the
ServiceEntries that let the pods reach the providers, and the ServiceMonitor.

The entry Service selects no pods on purpose. With a selector over both tracks, a
caller without a sidecar (or a gateway the VirtualService is not bound to) would reach
the pods by count, not by weight: about half of the traffic to holysheep at weight 0.
Without one it has no endpoints, so such a caller fails instead of leaking, and every
sidecar and bound gateway routes it by the weights.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ._app import APP_LABEL, HTTP_PORT
from ._istio import (
    Destination,
    HTTPRetry,
    HTTPRoute,
    HTTPRouteDestination,
    PortSelector,
    ServiceEntry,
    ServiceEntryPort,
    ServiceEntrySpec,
    VirtualService,
    VirtualServiceSpec,
)
from ._manifests import Service, ServicePort, ServiceSpec
from ._meta import LabelSelector, LabelSelectorRequirement, Manifest
from ._monitoring import ServiceMonitor, ServiceMonitorEndpoint, ServiceMonitorSpec
from ._names import dns_label
from ._plan import APP, Component, Plan, object_meta

__all__ = ["egress_hosts", "mesh_objects", "service_monitor"]

_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def _in_cluster(host: str) -> bool:
    if "." not in host or host == "localhost" or host.endswith(_CLUSTER_SUFFIXES):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def egress_hosts(plan: Plan) -> dict[str, set[tuple[int, str]]]:
    """
    The hosts outside the cluster the pods call, with their ports and protocols:
    every provider (a track fails over to all of them) and an external Redis.

    Hosts inside the cluster, IP addresses and ``localhost`` are left out: the first
    are in the mesh's registry already, and a ServiceEntry cannot name the others.
    """
    urls = [p.base_url for p in plan.config.providers]
    if plan.config.shared_state is not None:
        urls.append(plan.config.shared_state.url.get_secret_value())
    found: dict[str, set[tuple[int, str]]] = {}
    for url in urls:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or _in_cluster(host):
            continue
        scheme = parts.scheme.lower()
        default, protocol = {
            "https": (443, "HTTPS"),
            "http": (80, "HTTP"),
            "redis": (6379, "TCP"),
            "rediss": (6379, "TLS"),
        }.get(scheme, (0, ""))
        if not protocol:
            continue
        found.setdefault(host, set()).add((parts.port or default, protocol))
    return found


def _port_name(number: int, protocol: str) -> str:
    name = protocol.lower()
    if (number, protocol) in ((443, "HTTPS"), (80, "HTTP")):
        return name
    return f"{name}-{number}"


def _service_entries(plan: Plan) -> list[ServiceEntry]:
    out = []
    for host, ports in sorted(egress_hosts(plan).items()):
        out.append(
            ServiceEntry(
                metadata=object_meta(plan, f"egress-{dns_label(host)}", app=APP_LABEL),
                spec=ServiceEntrySpec(
                    hosts=(host,),
                    ports=tuple(
                        ServiceEntryPort(n, p, _port_name(n, p))
                        for n, p in sorted(ports)
                    ),
                    location="MESH_EXTERNAL",
                    resolution="DNS",
                    export_to=(".",),
                ),
            )
        )
    return out


def service_monitor(plan: Plan) -> ServiceMonitor:
    """
    A ServiceMonitor scraping every track Service's ``metrics`` port.
    """
    selector = LabelSelector(
        match_labels={"app": APP_LABEL},
        match_expressions=(LabelSelectorRequirement("track", "Exists"),),
    )
    return ServiceMonitor(
        metadata=object_meta(plan, APP, app=APP_LABEL),
        spec=ServiceMonitorSpec(
            selector=selector,
            endpoints=(
                ServiceMonitorEndpoint("metrics", path="/metrics", interval="15s"),
            ),
        ),
    )


def mesh_objects(plan: Plan) -> Component:
    """
    The entry Service (no pods of its own), the VirtualService bound to the mesh and
    the values' gateway, one ServiceEntry per external host, and the ServiceMonitor
    when the values ask for one.
    """
    front = Service(
        metadata=object_meta(plan, APP, app=APP_LABEL),
        spec=ServiceSpec(
            ports=(
                ServicePort(HTTP_PORT, target_port="http", protocol="TCP", name="http"),
            ),
            type="ClusterIP",
        ),
    )
    destinations = tuple(
        HTTPRouteDestination(
            Destination(host=t.name, port=PortSelector(HTTP_PORT)), weight=t.weight
        )
        for t in plan.tracks
    )
    route = HTTPRoute(
        name="tracks",
        route=destinations,
        # Retry only what never reached a pod: an LLM call is slow and not idempotent.
        retries=HTTPRetry(attempts=2, retry_on="connect-failure,refused-stream"),
    )
    gateway = plan.values.gateway
    service = VirtualService(
        metadata=object_meta(plan, APP, app=APP_LABEL),
        spec=VirtualServiceSpec(
            hosts=(APP, *plan.values.hosts),
            gateways=("mesh", gateway) if gateway else ("mesh",),
            http=(route,),
        ),
    )
    objects: list[Manifest] = [front, service, *_service_entries(plan)]
    if plan.values.scrape == "servicemonitor":
        objects.append(service_monitor(plan))
    return Component(objects=tuple(objects))
