"""
Manifests to text: stable order, multi-document YAML (or a JSON ``List``), and notes on
what the set expects to exist already.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from ._findings import Doc
from ._lint_version import VERSIONED_FIELDS
from ._meta import Manifest, plain

__all__ = [
    "INSTALL_ORDER",
    "Format",
    "as_dicts",
    "dump_yaml",
    "prerequisites",
    "render",
    "sort_key",
    "write_dir",
]

Format = Literal["yaml", "json"]

# Helm's install order (Namespace first); kinds it does not know (CRs) go last.
INSTALL_ORDER = (
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_RANK = {kind: i for i, kind in enumerate(INSTALL_ORDER)}


class _Dumper(yaml.SafeDumper):
    """
    Block-indented sequences (yamllint's default), no anchors, ``|`` for multi-line text.
    """

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def sort_key(doc: Mapping[str, Any]) -> tuple[int, str, str, str]:
    """
    Where a document goes: install order of its kind, then kind, namespace and name.
    """
    kind = str(doc.get("kind", ""))
    meta = doc.get("metadata") or {}
    return (
        _RANK.get(kind, len(INSTALL_ORDER)),
        kind,
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )


def as_dicts(objects: Iterable[Manifest | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """
    Plain dicts of the objects, in install order.
    """
    docs = [plain(o) for o in objects]
    return sorted(docs, key=sort_key)


def dump_yaml(docs: Sequence[Mapping[str, Any]], header: Sequence[str] = ()) -> str:
    """
    Multi-document YAML, each document opened with ``---``, after ``# `` header lines.
    """
    lines = "".join(f"# {line}".rstrip() + "\n" for line in header)
    body = yaml.dump_all(
        docs,
        Dumper=_Dumper,
        explicit_start=True,
        sort_keys=False,
        allow_unicode=True,
        width=4096,
    )
    return lines + body


def render(
    objects: Iterable[Manifest | Mapping[str, Any]],
    *,
    format: Format = "yaml",
    header: Sequence[str] = (),
) -> str:
    """
    Render manifests as text, in a stable order (Namespace first, as Helm installs).

    Args:
        objects: Manifest dataclasses or plain dicts.
        format: ``"yaml"``, multi-document; or ``"json"``, one ``v1`` ``List``.
        header: Comment lines put before the YAML (ignored for JSON).

    Returns:
        The text, ending with a newline.

    Raises:
        ValueError: Unknown format.
    """
    docs = as_dicts(objects)
    if format == "yaml":
        return dump_yaml(docs, header)
    if format == "json":
        listing = {"apiVersion": "v1", "kind": "List", "items": docs}
        return json.dumps(listing, indent=2, ensure_ascii=False) + "\n"
    raise ValueError("format must be 'yaml' or 'json'")


def _refs(pod: Mapping[str, Any]) -> Iterable[tuple[str, str | None]]:
    for c in list(pod.get("containers") or []) + list(pod.get("initContainers") or []):
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield ref.get("name", ""), ref.get("key")
        for src in c.get("envFrom") or []:
            if "secretRef" in src:
                yield src["secretRef"].get("name", ""), None
    for vol in pod.get("volumes") or []:
        if "secret" in vol:
            yield vol["secret"].get("secretName", ""), None


def _annotated(doc: Mapping[str, Any]) -> bool:
    template = (doc.get("spec") or {}).get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return annotations.get("prometheus.io/scrape") == "true"


def prerequisites(objects: Iterable[Manifest | Mapping[str, Any]]) -> list[str]:
    """
    Notes on what the set expects to exist: operators its kinds need, and Secrets it
    references but does not hold.

    Returns:
        Lines of text (no comment markers), empty when nothing is missing.
    """
    docs = as_dicts(objects)
    present = {
        (d["metadata"].get("namespace"), d["metadata"].get("name"))
        for d in docs
        if d.get("kind") == "Secret"
    }
    missing: dict[tuple[str, str], set[str]] = {}
    for d in docs:
        template = (d.get("spec") or {}).get("template") or {}
        namespace = d["metadata"].get("namespace") or "default"
        for name, key in _refs(template.get("spec") or {}):
            if (namespace, name) not in present:
                keys = missing.setdefault((namespace, name), set())
                if key:
                    keys.add(key)
    kinds = {d.get("kind") for d in docs}
    lines: list[str] = []
    needed = [f for f in VERSIONED_FIELDS if any(f.found(Doc(d)) for d in docs)]
    if needed:
        low = max(f.on_by_default for f in needed)
        fields = ", ".join(f.path for f in needed)
        lines.append(f"Needs Kubernetes {low[0]}.{low[1]} or later ({fields}).")
    if "ScaledObject" in kinds:
        lines.append("Needs KEDA >= 2.17 (in its own namespace) and metrics-server.")
    elif "HorizontalPodAutoscaler" in kinds:
        lines.append("Needs metrics-server.")
    if "VirtualService" in kinds:
        lines.append(
            "Needs Istio; the namespace label istio-injection=enabled adds sidecars."
        )
    if "ServiceMonitor" in kinds:
        lines.append("Needs the Prometheus Operator (ServiceMonitor).")
    elif any(_annotated(d) for d in docs):
        lines.append(
            "Needs a Prometheus that scrapes pods by their prometheus.io annotations."
        )
    for (namespace, name), keys in sorted(missing.items()):
        lines += textwrap.wrap(
            f"The pods read API keys from Secret {name} (keys: {', '.join(sorted(keys))}),"
            " which this set does not contain: create it once the namespace exists, out"
            " of band, for example:",
            width=86,
            break_on_hyphens=False,
        )
        lines.append(f"  kubectl -n {namespace} create secret generic {name} \\")
        for i, key in enumerate(sorted(keys)):
            env = key.upper().replace("-", "_")
            end = " \\" if i < len(keys) - 1 else ""
            lines.append(f'    --from-literal={key}="${env}"{end}')
    return lines


def write_dir(
    objects: Iterable[Manifest | Mapping[str, Any]],
    out: str | Path,
    *,
    format: Format = "yaml",
) -> list[Path]:
    """
    Write one file per object, named ``NN-kind-name.yaml`` in install order.

    A Secret's file is created readable by its owner only.

    Returns:
        The paths written.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i, doc in enumerate(as_dicts(objects), start=1):
        name = (
            f"{i:02d}-{doc['kind'].lower()}-{doc['metadata'].get('name', '')}.{format}"
        )
        path = folder / name
        text = render([doc], format=format)
        if format == "json":
            text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        mode = 0o600 if doc.get("kind") == "Secret" else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, mode)
        paths.append(path)
    return paths
