"""
The Prometheus Operator's ServiceMonitor (``monitoring.coreos.com/v1``): which Services'
endpoints Prometheus scrapes, on which port and path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._meta import K8sObject, LabelSelector, Manifest

__all__ = ["ServiceMonitor", "ServiceMonitorEndpoint", "ServiceMonitorSpec"]


@dataclass(frozen=True, slots=True)
class ServiceMonitorEndpoint(K8sObject):
    """
    One scraped port of the selected Services.

    Attributes:
        port: The Service port's name.
        path: The HTTP path (Prometheus's default is ``/metrics``).
        interval: How often, e.g. ``"15s"``.
    """

    port: str
    path: str | None = None
    interval: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceMonitorSpec(K8sObject):
    """
    The Services to scrape (in the ServiceMonitor's namespace) and their endpoints.
    """

    selector: LabelSelector
    endpoints: tuple[ServiceMonitorEndpoint, ...]


@dataclass(frozen=True, slots=True)
class ServiceMonitor(Manifest):
    """
    A ServiceMonitor (``monitoring.coreos.com/v1``); needs the Prometheus Operator.
    """

    api_version = "monitoring.coreos.com/v1"
    kind = "ServiceMonitor"

    spec: ServiceMonitorSpec
