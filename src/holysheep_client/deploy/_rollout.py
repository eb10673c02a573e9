"""
What a rollout and a drain ask of the cluster, as plain functions shared by the
reference stack (which sizes its quota and disruption budgets with them) and the lint
rules (which check anyone's manifests against the same arithmetic).

The Kubernetes facts behind them:

- A ResourceQuota counts a terminating pod until it is gone (its grace period at most),
  while the Deployment controller does not count terminating pods against
  ``maxSurge``: old pods deleted by one step of a rollout are still charged to the
  quota when the next step creates its surge.
- A PodDisruptionBudget's percentages are rounded up, for ``minAvailable`` and for
  ``maxUnavailable`` alike; with ``N`` healthy pods, an eviction is allowed while
  ``N - desiredHealthy > 0``.
- Istio's injector gives a sidecar 100m CPU / 128Mi of requests and 2 CPU / 1Gi of
  limits unless the pod pins them with ``sidecar.istio.io/proxy*`` annotations (and
  when any one is set, only the annotated ones are set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from ._units import parse_quantity, percent_of

__all__ = [
    "ISTIO_SIDECAR_LIMITS",
    "ISTIO_SIDECAR_REQUESTS",
    "SIDECAR_ANNOTATIONS",
    "disruptions_allowed",
    "rollout_pods",
    "sidecar_resources",
    "terminating_pods",
]

ISTIO_SIDECAR_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
"""Istio's default sidecar requests (``global.proxy.resources``)."""
ISTIO_SIDECAR_LIMITS = {"cpu": "2000m", "memory": "1024Mi"}
"""Istio's default sidecar limits (``global.proxy.resources``)."""
SIDECAR_ANNOTATIONS = {
    ("requests", "cpu"): "sidecar.istio.io/proxyCPU",
    ("requests", "memory"): "sidecar.istio.io/proxyMemory",
    ("limits", "cpu"): "sidecar.istio.io/proxyCPULimit",
    ("limits", "memory"): "sidecar.istio.io/proxyMemoryLimit",
}
"""The pod annotations that pin the sidecar's resources, by (section, resource)."""


def terminating_pods(
    replicas: int, step: int, grace_seconds: float, ready_seconds: float
) -> int:
    """
    How many old pods can still be terminating, and charged to the quota, during a
    rolling update at ``replicas``.

    Each step replaces ``step`` pods (``maxSurge`` plus ``maxUnavailable``) and cannot
    finish faster than a new pod gets ready, while a deleted pod may take its whole
    grace period to go: ``ceil(grace / ready)`` steps overlap, capped at every pod.

    Args:
        replicas: The Deployment's replicas (its autoscaler's maximum).
        step: Pods replaced per step.
        grace_seconds: ``terminationGracePeriodSeconds``.
        ready_seconds: The earliest a new pod is ready (its readiness probe's initial
            delay or ``minReadySeconds``); at least one second is assumed.

    Returns:
        The number of pods, between 0 and ``replicas``.
    """
    if replicas <= 0 or step <= 0 or grace_seconds <= 0:
        return 0
    overlapping = math.ceil(grace_seconds / max(ready_seconds, 1.0))
    return min(replicas, step * overlapping)


def rollout_pods(
    replicas: int,
    *,
    max_surge: int | str = "25%",
    max_unavailable: int | str = 0,
    grace_seconds: float = 30.0,
    ready_seconds: float = 0.0,
    recreate: bool = False,
) -> tuple[int, int]:
    """
    The surge and the terminating pods a rolling update at ``replicas`` adds.

    Args:
        replicas: The Deployment's replicas (its autoscaler's maximum).
        max_surge: ``rollingUpdate.maxSurge`` (percentages round up).
        max_unavailable: ``rollingUpdate.maxUnavailable`` (percentages round down).
        grace_seconds: ``terminationGracePeriodSeconds``.
        ready_seconds: The earliest a new pod is ready.
        recreate: The ``Recreate`` strategy: old pods are gone before new ones start.

    Returns:
        ``(surge, terminating)``: pods above ``replicas`` while a rollout runs.

    Raises:
        ValueError: A surge or unavailable value that is neither a count nor a
            percentage.
    """
    if recreate:
        return 0, 0
    surge = percent_of(max_surge, replicas)
    text = str(max_unavailable).strip()
    unavailable = (
        int(text[:-1]) * replicas // 100
        if text.endswith("%") and text[:-1].isdigit()
        else percent_of(max_unavailable, replicas)
    )
    terminating = terminating_pods(
        replicas, surge + unavailable, grace_seconds, ready_seconds
    )
    return surge, terminating


def _scaled(value: int | str, total: int) -> int:
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        return math.ceil(int(text[:-1]) * total / 100)
    return int(text)


def disruptions_allowed(
    healthy: int,
    *,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
) -> int | None:
    """
    Evictions a PodDisruptionBudget allows with ``healthy`` pods, all of them ready.

    Args:
        healthy: The pods the budget selects.
        min_available: ``spec.minAvailable``.
        max_unavailable: ``spec.maxUnavailable``.

    Returns:
        The count, or ``None`` when the budget sets neither field.

    Raises:
        ValueError: A value that is neither a count nor a percentage.
    """
    if min_available is not None:
        desired = _scaled(min_available, healthy)
    elif max_unavailable is not None:
        desired = healthy - _scaled(max_unavailable, healthy)
    else:
        return None
    return max(0, healthy - desired)


def sidecar_resources(
    annotations: Mapping[str, object],
) -> dict[str, dict[str, Fraction]]:
    """
    The sidecar's requests and limits as Istio's injector sets them for a pod.

    Args:
        annotations: The pod template's annotations.

    Returns:
        ``{"requests": {...}, "limits": {...}}`` in cores and bytes; a resource the
        annotations leave unset while pinning another is left out (the namespace's
        LimitRange defaults then apply to it).

    Raises:
        ValueError: An annotation that is not a quantity.
    """
    pinned = {
        key: annotations[name]
        for key, name in SIDECAR_ANNOTATIONS.items()
        if name in annotations
    }
    out: dict[str, dict[str, Fraction]] = {"requests": {}, "limits": {}}
    for (section, resource), _ in SIDECAR_ANNOTATIONS.items():
        if pinned:
            if (section, resource) in pinned:
                out[section][resource] = parse_quantity(pinned[(section, resource)])
        else:
            defaults = (
                ISTIO_SIDECAR_REQUESTS
                if section == "requests"
                else ISTIO_SIDECAR_LIMITS
            )
            out[section][resource] = parse_quantity(defaults[resource])
    return out
