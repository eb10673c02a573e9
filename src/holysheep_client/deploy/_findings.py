"""
What `check` reports: findings, the documents and patches they are about, and the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["RULES", "Doc", "Finding", "Patch", "Severity"]

Severity = Literal["error", "warning", "info"]

RULES: Mapping[str, str] = {
    "schema": "an object fails its Kubernetes OpenAPI or CRD schema (CEL rules included)",
    "not-schema-checked": "no schema was available for an object, so it was not checked",
    "kube-version": "a field the target Kubernetes version (--kube-version) lacks or ignores",
    "vs-unreachable-route": "a VirtualService http route after a catch-all route",
    "vs-weights": "route weights that do not split traffic as written (not 100, all 0)",
    "vs-host-service": "a VirtualService host or destination with no Service or port",
    "vs-split-leak": "a weighted split whose host Service selects the tracks' pods itself",
    "vs-subset": "a route to a subset that no DestinationRule defines",
    "mesh-retry-timeout": "the mesh's per-try or route timeout is shorter than a call",
    "patch-path": "a JSON patch that targets an unreachable or missing route",
    "one-autoscaler": "more than one autoscaler (HPA or ScaledObject) on a workload",
    "fixed-replicas": "spec.replicas on a workload an autoscaler owns",
    "selector-mismatch": "a workload selector that misses its template, a Service with no pods",
    "service-target-port": "a Service targetPort that no selected container has",
    "quota-capacity": "a ResourceQuota that cannot hold every workload through a rollout",
    "quota-sidecar": "a quota that only fails once Istio's default sidecar is counted",
    "limitrange-bounds": "requests or limits outside a LimitRange, or an inconsistent one",
    "keda-removed-field": "ScaledObject fields KEDA removed (metricName, metadata.type)",
    "keda-trigger-metadata": "a KEDA trigger missing a required parameter",
    "keda-fallback": "a ScaledObject fallback KEDA rejects (cpu/memory only, not Average)",
    "promql-rate-gauge": "rate(), irate() or increase() over a gauge (a name not a counter's)",
    "pdb-missing": "a replicated workload with no PodDisruptionBudget",
    "pdb-blocks-drain": "a PodDisruptionBudget that allows no eviction at minimum scale",
    "grace-period": "terminationGracePeriodSeconds below preStop sleep plus a whole call",
    "placeholder-secret": "a Secret whose value is a placeholder such as YOUR_API_KEY",
    "secret-in-manifest": "a Secret with literal values in a manifest file",
    "dangling-ref": "a reference to a Secret, ConfigMap, key or workload not in the set",
    "unused-configmap": "a ConfigMap no workload mounts or reads",
    "dns1123": "a name that is not a valid DNS-1123 label or subdomain",
}


@dataclass(frozen=True, slots=True, eq=False)
class Doc:
    """
    One manifest read from a file.

    Attributes:
        data: The object.
        source: The file it came from (empty for objects built in Python).
    """

    data: Mapping[str, Any]
    source: str = ""

    @property
    def kind(self) -> str:
        """
        The object's kind.
        """
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        """
        The object's name.
        """
        return str((self.data.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        """
        The object's namespace (``"default"`` when unset).
        """
        return str((self.data.get("metadata") or {}).get("namespace") or "default")

    @property
    def ref(self) -> str:
        """
        ``Kind/name``, how findings name it.
        """
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Patch:
    """
    A JSON patch found in a file (a JSON array, or a ``kubectl patch`` in a script).

    Attributes:
        ops: ``(op, path)`` pairs.
        source: The file.
        target: The VirtualService it patches, when the file names it.
        namespace: Its namespace, when the file names it.
    """

    ops: tuple[tuple[str, str], ...]
    source: str
    target: str | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """
    One problem found by `check`.

    Attributes:
        severity: ``"error"`` (``check`` exits 1), ``"warning"`` or ``"info"``.
        rule: The rule's id, a key of `RULES`.
        subject: What it is about, e.g. ``Deployment/deerflow-api``.
        message: One sentence; never a secret's value.
        source: The file, when known.
    """

    severity: Severity
    rule: str
    subject: str
    message: str
    source: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.severity}: {self.subject}: {self.message} [{self.rule}]"
