"""
The base of every manifest dataclass: snake_case fields in, camelCase keys out.

A field's key is its name in camelCase (a trailing underscore dropped, so ``from_``
becomes ``from``) unless its metadata names another with ``key``. Fields that are
``None`` are left out; fields keep the order they are declared in, which follows the
Kubernetes API reference rather than the alphabet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "K8sObject",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Manifest",
    "ObjectMeta",
    "camel",
    "plain",
]


def camel(name: str) -> str:
    """
    The camelCase key of a snake_case field name (``match_labels`` -> ``matchLabels``).
    """
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def plain(value: Any) -> Any:
    """
    Plain data (dicts, lists, scalars) from a manifest object or any nesting of them.
    """
    if isinstance(value, K8sObject):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class K8sObject:
    """
    A part of a manifest; `to_dict` writes it with camelCase keys and no ``None``.
    """

    def to_dict(self) -> dict[str, Any]:
        """
        This object as plain data, keys in declaration order.

        Returns:
            A dict ready for YAML or JSON.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.metadata.get("key", camel(f.name))] = plain(value)
        return out


@dataclass(frozen=True, slots=True)
class ObjectMeta(K8sObject):
    """
    Standard object metadata.

    Attributes:
        name: The object's name, unique per kind and namespace.
        namespace: The namespace (``None`` for cluster-scoped kinds).
        labels: Identifying labels, used by selectors.
        annotations: Non-identifying metadata.
    """

    name: str | None = None
    namespace: str | None = None
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class LabelSelectorRequirement(K8sObject):
    """
    One ``matchExpressions`` entry of a label selector.
    """

    key: str
    operator: str
    values: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LabelSelector(K8sObject):
    """
    Selects objects by their labels.
    """

    match_labels: Mapping[str, str] | None = None
    match_expressions: tuple[LabelSelectorRequirement, ...] | None = None


@dataclass(frozen=True, slots=True)
class Manifest(K8sObject):
    """
    A top-level Kubernetes object: ``apiVersion`` and ``kind`` come from the class.

    Attributes:
        metadata: Name, namespace, labels and annotations.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = ""

    metadata: ObjectMeta

    @property
    def name(self) -> str:
        """
        The object's name (empty when unset).
        """
        return self.metadata.name or ""

    def to_dict(self) -> dict[str, Any]:
        """
        The manifest as plain data: ``apiVersion``, ``kind``, then the fields.

        Returns:
            A dict ready for YAML or JSON.
        """
        body = K8sObject.to_dict(self)
        return {"apiVersion": self.api_version, "kind": self.kind, **body}
