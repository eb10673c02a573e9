"""
A lookup over a set of documents that the lint rules share: objects by kind and name,
pod templates, autoscalers and label selection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._findings import Doc

__all__ = ["Autoscaling", "Index", "PodTemplate", "request_timeout", "selects"]

_TEMPLATED = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job")


def request_timeout(container: Mapping[str, Any]) -> float:
    """
    A container's ``REQUEST_TIMEOUT`` in seconds (the seed's convention), else 0.
    """
    for env in container.get("env") or []:
        if isinstance(env, Mapping) and env.get("name") == "REQUEST_TIMEOUT":
            try:
                return float(env.get("value", 0))
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """
    Whether a label selector (``matchLabels`` / ``matchExpressions``, or a Service's
    plain map) selects an object with ``labels``; an empty or missing one selects none.
    """
    if not selector:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return all(labels.get(k) == v for k, v in selector.items())
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = (
            expr.get("key"),
            expr.get("operator"),
            expr.get("values") or [],
        )
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """
    The pods a document runs.

    Attributes:
        owner: The workload (or the Pod itself).
        labels: The pods' labels.
        annotations: The pods' annotations.
        spec: The pod spec.
    """

    owner: Doc
    labels: Mapping[str, Any]
    annotations: Mapping[str, Any]
    spec: Mapping[str, Any]

    def containers(self) -> list[Mapping[str, Any]]:
        """
        The app containers (init containers excluded).
        """
        return [c for c in self.spec.get("containers") or [] if isinstance(c, Mapping)]


@dataclass(frozen=True, slots=True)
class Autoscaling:
    """
    One autoscaler and what it scales.

    Attributes:
        scaler: The HPA or ScaledObject.
        kind: The target's kind.
        name: The target's name.
        min_replicas: The lower bound (defaults applied).
        max_replicas: The upper bound (defaults applied).
    """

    scaler: Doc
    kind: str
    name: str
    min_replicas: int
    max_replicas: int


class Index:
    """
    The documents of one check, looked up by kind, namespace and name.
    """

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.docs = list(docs)

    def __repr__(self) -> str:
        return f"<Index docs={len(self.docs)}>"

    def of_kind(self, *kinds: str) -> list[Doc]:
        """
        The documents of these kinds, in input order.
        """
        return [d for d in self.docs if d.kind in kinds]

    def get(self, kind: str, namespace: str, name: str) -> Doc | None:
        """
        The object of this kind, namespace and name, if present.
        """
        for d in self.docs:
            if d.kind == kind and d.namespace == namespace and d.name == name:
                return d
        return None

    def templates(self) -> Iterator[PodTemplate]:
        """
        Every pod template (workloads, CronJobs and bare Pods).
        """
        for d in self.docs:
            spec = d.data.get("spec") or {}
            if d.kind in _TEMPLATED:
                template = spec.get("template") or {}
            elif d.kind == "CronJob":
                template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get(
                    "template"
                ) or {}
            elif d.kind == "Pod":
                template = d.data
            else:
                continue
            meta = template.get("metadata") or {}
            yield PodTemplate(
                owner=d,
                labels=meta.get("labels") or {},
                annotations=meta.get("annotations") or {},
                spec=template.get("spec") or {},
            )

    def autoscalers(self) -> list[Autoscaling]:
        """
        Every HPA and ScaledObject with its target and bounds.
        """
        out = []
        for d in self.of_kind("HorizontalPodAutoscaler", "ScaledObject"):
            spec = d.data.get("spec") or {}
            ref = spec.get("scaleTargetRef") or {}
            if d.kind == "ScaledObject":
                low, high = (
                    spec.get("minReplicaCount", 0),
                    spec.get("maxReplicaCount", 100),
                )
                kind = ref.get("kind") or "Deployment"
            else:
                low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
                kind = ref.get("kind") or ""
            if not isinstance(low, int) or not isinstance(high, int):
                continue
            out.append(Autoscaling(d, str(kind), str(ref.get("name", "")), low, high))
        return out

    def scalers_of(self, workload: Doc) -> list[Autoscaling]:
        """
        The autoscalers targeting ``workload``.
        """
        return [
            a
            for a in self.autoscalers()
            if a.kind == workload.kind
            and a.name == workload.name
            and a.scaler.namespace == workload.namespace
        ]
