"""
A lookup over a set of documents that the lint rules share: objects by kind and name,
pod templates, autoscalers, label selection, sidecar injection and call deadlines.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .. import ClientConfig
from ._findings import Doc
from ._plan import NoKeys, call_deadline

__all__ = [
    "Autoscaling",
    "Index",
    "PodTemplate",
    "request_timeout",
    "selects",
]

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

    Attributes:
        docs: The documents.
        kubernetes_version: The cluster's ``(major, minor)`` when the check was told.
    """

    def __init__(
        self,
        docs: Sequence[Doc],
        kubernetes_version: tuple[int, int] | None = None,
    ) -> None:
        self.docs = list(docs)
        self.kubernetes_version = kubernetes_version

    def __repr__(self) -> str:
        return f"<Index docs={len(self.docs)} version={self.kubernetes_version}>"

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

    def replica_range(self, workload: Doc) -> tuple[int, int]:
        """
        ``(min, max)`` replicas of a workload: its autoscalers' bounds, else
        ``spec.replicas`` (1 when unset).
        """
        scalers = self.scalers_of(workload)
        if scalers:
            return (
                min(a.min_replicas for a in scalers),
                max(a.max_replicas for a in scalers),
            )
        replicas = (workload.data.get("spec") or {}).get("replicas", 1)
        replicas = replicas if isinstance(replicas, int) else 1
        return replicas, replicas

    def selected(
        self, selector: Mapping[str, Any] | None, namespace: str
    ) -> list[PodTemplate]:
        """
        The pod templates in ``namespace`` that ``selector`` selects.
        """
        return [
            t
            for t in self.templates()
            if t.owner.namespace == namespace and selects(selector, t.labels)
        ]

    def sidecar_injected(self, template: PodTemplate) -> bool:
        """
        Whether Istio's injector gives these pods a sidecar.

        The pod's ``sidecar.istio.io/inject`` label (or the older annotation) decides;
        else its Namespace's ``istio-injection`` or ``istio.io/rev`` label, when the
        Namespace is in the set; else the presence of Istio objects in the namespace.
        """
        for source in (template.labels, template.annotations):
            flag = str(source.get("sidecar.istio.io/inject", "")).lower()
            if flag in ("true", "false"):
                return flag == "true"
        namespace = template.owner.namespace
        ns = next((d for d in self.of_kind("Namespace") if d.name == namespace), None)
        if ns is not None:
            labels = (ns.data.get("metadata") or {}).get("labels") or {}
            injection = labels.get("istio-injection")
            return injection == "enabled" or (
                "istio.io/rev" in labels and injection != "disabled"
            )
        return any(
            str(d.data.get("apiVersion", "")).startswith("networking.istio.io/")
            and d.namespace == namespace
            for d in self.docs
        )

    def call_deadline(
        self, template: PodTemplate, container: Mapping[str, Any]
    ) -> tuple[float, str]:
        """
        The longest a container's call may take, and where that came from.

        The larger of its ``REQUEST_TIMEOUT`` (one attempt, the seed's convention) and
        the whole-call deadline of the client config it mounts from a ConfigMap in the
        set (``HOLYSHEEP_CONFIG``: ``timeout.total``, else every retry at the
        per-attempt timeout).

        Returns:
            ``(seconds, description)``; ``(0.0, "")`` when neither is known.
        """
        best = request_timeout(container)
        what = f"REQUEST_TIMEOUT {best:g} s" if best else ""
        deadline = self._config_deadline(template, container)
        if deadline is not None and deadline > best:
            best, what = deadline, f"the client's whole-call deadline {deadline:g} s"
        return best, what

    def _config_deadline(
        self, template: PodTemplate, container: Mapping[str, Any]
    ) -> float | None:
        env = {
            e.get("name"): e.get("value")
            for e in container.get("env") or []
            if isinstance(e, Mapping)
        }
        path = env.get("HOLYSHEEP_CONFIG")
        if not isinstance(path, str):
            return None
        volumes = {
            v.get("name"): v
            for v in template.spec.get("volumes") or []
            if isinstance(v, Mapping)
        }
        for mount in container.get("volumeMounts") or []:
            where = str(mount.get("mountPath", "")).rstrip("/")
            if posixpath.dirname(path) != where:
                continue
            source = (volumes.get(mount.get("name")) or {}).get("configMap") or {}
            cm = self.get("ConfigMap", template.owner.namespace, source.get("name", ""))
            if cm is None:
                continue
            key = posixpath.basename(path)
            for item in source.get("items") or []:
                if item.get("path") == key:
                    key = item.get("key")
            text = (cm.data.get("data") or {}).get(key)
            return _deadline_of(text) if isinstance(text, str) else None
        return None


def _deadline_of(text: str) -> float | None:
    """
    The whole-call deadline of a client config file (our shape), if it parses.
    """
    try:
        data = yaml.safe_load(text)
        config = ClientConfig.model_validate(data, context={"environ": NoKeys()})
    except (ValueError, yaml.YAMLError, TypeError):
        return None
    return call_deadline(config)
