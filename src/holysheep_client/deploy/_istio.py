"""
Istio's traffic kinds (``networking.istio.io/v1``): the VirtualService that splits
traffic between tracks, and the ServiceEntry that lets the pods reach a provider.

Weights only split traffic *inside one route*: the first route whose ``match`` fits a
request takes it, and a route without ``match`` fits every request, so any route after
it is never reached. A VirtualService applies to the sidecars (the reserved gateway
``mesh``) only while ``gateways`` is unset or names ``mesh``; a gateway gets its routes
only when named there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._meta import K8sObject, Manifest

__all__ = [
    "Destination",
    "HTTPMatchRequest",
    "HTTPRetry",
    "HTTPRoute",
    "HTTPRouteDestination",
    "PortSelector",
    "ServiceEntry",
    "ServiceEntryPort",
    "ServiceEntrySpec",
    "StringMatch",
    "VirtualService",
    "VirtualServiceSpec",
]


@dataclass(frozen=True, slots=True)
class PortSelector(K8sObject):
    """
    The destination Service's port number.
    """

    number: int


@dataclass(frozen=True, slots=True)
class Destination(K8sObject):
    """
    A Service (by host name) that receives routed traffic.
    """

    host: str
    subset: str | None = None
    port: PortSelector | None = None


@dataclass(frozen=True, slots=True)
class HTTPRouteDestination(K8sObject):
    """
    One weighted destination of a route; the weights of a route's destinations add to 100.
    """

    destination: Destination
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class StringMatch(K8sObject):
    """
    Match a string exactly, by prefix or by regular expression (set one).
    """

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


@dataclass(frozen=True, slots=True)
class HTTPMatchRequest(K8sObject):
    """
    Conditions a request must meet for a route to take it.
    """

    name: str | None = None
    uri: StringMatch | None = None
    headers: Mapping[str, StringMatch] | None = None


@dataclass(frozen=True, slots=True)
class HTTPRetry(K8sObject):
    """
    The mesh's retries for a route.

    Attributes:
        attempts: Retries after the first try.
        per_try_timeout: A Go duration such as ``"30s"``; unset, each try may use the
            route's whole timeout.
        retry_on: Envoy retry conditions, comma separated.
    """

    attempts: int
    per_try_timeout: str | None = None
    retry_on: str | None = None


@dataclass(frozen=True, slots=True)
class HTTPRoute(K8sObject):
    """
    One HTTP route: its match conditions, weighted destinations, timeout and retries.
    """

    name: str | None = None
    match: tuple[HTTPMatchRequest, ...] | None = None
    route: tuple[HTTPRouteDestination, ...] | None = None
    timeout: str | None = None
    retries: HTTPRetry | None = None


@dataclass(frozen=True, slots=True)
class VirtualServiceSpec(K8sObject):
    """
    The hosts a VirtualService applies to and its ordered HTTP routes.
    """

    hosts: tuple[str, ...]
    gateways: tuple[str, ...] | None = None
    http: tuple[HTTPRoute, ...] = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class VirtualService(Manifest):
    """
    An Istio VirtualService (``networking.istio.io/v1``).
    """

    api_version = "networking.istio.io/v1"
    kind = "VirtualService"

    spec: VirtualServiceSpec


@dataclass(frozen=True, slots=True)
class ServiceEntryPort(K8sObject):
    """
    A port of a service outside the mesh's registry.

    Attributes:
        number: The port number.
        protocol: ``HTTP``, ``HTTPS``, ``TLS``, ``TCP``, ...; ``HTTPS`` and ``TLS``
            pass the app's own TLS through, routed by SNI.
        name: The port's label (required).
    """

    number: int
    protocol: str
    name: str


@dataclass(frozen=True, slots=True)
class ServiceEntrySpec(K8sObject):
    """
    Hosts added to the mesh's registry, how they resolve and who may see them.

    Attributes:
        hosts: DNS names (no bare ``*``).
        ports: The ports the pods call.
        location: ``MESH_EXTERNAL`` for a provider's API.
        resolution: ``DNS`` resolves the hosts when connecting.
        export_to: Namespaces whose sidecars see the entry (``.``: its own only).
    """

    hosts: tuple[str, ...]
    ports: tuple[ServiceEntryPort, ...] | None = None
    location: str | None = None
    resolution: str | None = None
    export_to: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ServiceEntry(Manifest):
    """
    An Istio ServiceEntry (``networking.istio.io/v1``): with the mesh's outbound policy
    at ``REGISTRY_ONLY``, a host without one is unreachable from the pods.
    """

    api_version = "networking.istio.io/v1"
    kind = "ServiceEntry"

    spec: ServiceEntrySpec
