"""
Validation of custom resources (KEDA ScaledObject, Istio VirtualService, ...) against
CRD schemas read from a folder the caller names, like kubeconform's schema location.

CRDs carry Kubernetes *structural* schemas, not plain JSON Schema, so each is converted
first: ``nullable: true`` becomes a ``null`` type, every object that lists
``properties`` (and neither ``additionalProperties`` nor
``x-kubernetes-preserve-unknown-fields``) gets ``additionalProperties: false`` so unknown
fields are errors, as with ``kubectl --validate=strict``, and the root gains
``apiVersion``, ``kind`` and ``metadata``, which the API server accepts implicitly.
The CEL rules (``x-kubernetes-validations``) that JSON Schema cannot express are
evaluated here for the rules we know; see `CEL_RULES`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from ._units import parse_duration

__all__ = ["CEL_RULES", "CrdSchemas", "load_schemas", "structural_to_jsonschema"]

_OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def structural_to_jsonschema(schema: Any, *, root: bool = True) -> Any:
    """
    A structural schema (``openAPIV3Schema``) as a strict JSON Schema.

    Args:
        schema: The structural schema (not modified).
        root: Whether this is the resource's root (adds apiVersion/kind/metadata).

    Returns:
        A new schema for `jsonschema`.
    """
    if isinstance(schema, list):
        return [structural_to_jsonschema(s, root=False) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {
                k: structural_to_jsonschema(v, root=False) for k, v in value.items()
            }
        elif key in ("items", "additionalProperties", "not") or key in (
            "allOf",
            "anyOf",
            "oneOf",
        ):
            out[key] = structural_to_jsonschema(value, root=False)
        else:
            out[key] = value
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        out.get("x-kubernetes-int-or-string")
        and "type" not in out
        and "anyOf" not in out
    ):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        meta = props.get("metadata")
        if not isinstance(meta, Mapping) or "properties" not in meta:
            props["metadata"] = dict(_OBJECT_META)
        out.setdefault("type", "object")
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _min_le_max(spec: Mapping[str, Any]) -> str | None:
    low = spec.get("minReplicaCount")
    high = spec.get("maxReplicaCount", 100)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        return "minReplicaCount must be less than or equal to maxReplicaCount"
    return None


def _at_least_1ms(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        return "must be a valid duration greater than 1ms"
    return (
        None
        if seconds >= Fraction(1, 1000)
        else "must be a valid duration greater than 1ms"
    )


def _port_number(value: Any) -> str | None:
    if isinstance(value, int) and not 0 < value <= 65535:
        return "port must be between 1-65535"
    return None


def _not_wildcard(value: Any) -> str | None:
    return "hostname cannot be wildcard" if value == "*" else None


def _unique_ports(value: Any) -> str | None:
    numbers = [p.get("number") for p in value or [] if isinstance(p, Mapping)]
    return (
        "port number cannot be duplicated"
        if len(numbers) != len(set(numbers))
        else None
    )


CEL_RULES: Mapping[str, Callable[[Any], str | None]] = {
    "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount)"
    " ? self.maxReplicaCount : 100)": _min_le_max,
    "duration(self) >= duration('1ms')": _at_least_1ms,
    "0 < self && self <= 65535": _port_number,
    'self != "*"': _not_wildcard,
    "self.all(l1, self.exists_one(l2, l1.number == l2.number))": _unique_ports,
}
"""The CEL rules evaluated here, by their exact text: KEDA's min <= max replicas,
Istio's duration fields (timeout, perTryTimeout, backoff, fault delays, CORS maxAge),
and the ServiceEntry's port range, unique port numbers and non-wildcard hosts."""


def _cel(schema: Any, value: Any, path: list[str | int]) -> Iterator[tuple[str, str]]:
    """
    Walk the instance with its structural schema; yield (path, message) per failed rule.
    """
    if not isinstance(schema, Mapping):
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        check = CEL_RULES.get(str(rule.get("rule", "")))
        if check is not None and value is not None:
            message = check(value)
            if message:
                yield ".".join(map(str, path)) or "<root>", message
    if isinstance(value, Mapping):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else None)
            yield from _cel(sub, child, [*path, key])
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _cel(schema.get("items"), child, [*path, i])


class CrdSchemas:
    """
    The CRD schemas of one folder, keyed by ``(apiVersion, kind)``.

    Attributes:
        folder: Where they were read from (the first folder).
        folders: Every folder they were read from.
    """

    def __init__(
        self,
        folder: Path,
        schemas: Mapping[tuple[str, str], Any],
        *,
        folders: tuple[Path, ...] = (),
    ) -> None:
        self.folder = folder
        self.folders = folders or (folder,)
        self._structural = dict(schemas)
        self._strict: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return f"<CrdSchemas folder={str(self.folder)!r} kinds={len(self._structural)}>"

    def __contains__(self, key: object) -> bool:
        return key in self._structural

    def kinds(self) -> list[tuple[str, str]]:
        """
        The ``(apiVersion, kind)`` pairs known.
        """
        return sorted(self._structural)

    def validate(self, doc: Mapping[str, Any]) -> list[tuple[str, str]]:
        """
        Errors of ``doc`` against its schema, as ``(path, message)``.

        Raises:
            KeyError: No schema for the document's apiVersion and kind.
            ImportError: ``jsonschema`` is not installed.
        """
        # Imported by name: jsonschema is a development dependency without type stubs.
        jsonschema = importlib.import_module("jsonschema")
        key = (str(doc.get("apiVersion")), str(doc.get("kind")))
        structural = self._structural[key]
        if key not in self._strict:
            self._strict[key] = structural_to_jsonschema(structural)
        validator = jsonschema.Draft7Validator(self._strict[key])
        errors = [
            (".".join(map(str, e.absolute_path)) or "<root>", e.message)
            for e in sorted(
                validator.iter_errors(doc), key=lambda e: list(e.absolute_path)
            )
        ]
        errors += list(_cel(structural, doc, []))
        return errors


def _from_crd(doc: Mapping[str, Any]) -> Iterator[tuple[tuple[str, str], Any]]:
    spec = doc.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    for version in spec.get("versions") or []:
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if group and kind and schema:
            yield (f"{group}/{version['name']}", kind), schema


def _loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_schemas(*folders: str | Path) -> CrdSchemas:
    """
    Read every CRD in the folders (YAML or JSON ``CustomResourceDefinition`` files);
    for a kind in more than one, the first folder wins.

    A bare ``openAPIV3Schema`` JSON file also counts when it is named
    ``<group>_<version>_<kind>.openapiv3.json``.

    Raises:
        OSError: A folder cannot be read.
        ValueError: No folder is given, or a file is neither YAML nor JSON.
    """
    if not folders:
        raise ValueError("load_schemas needs at least one folder")
    found: dict[tuple[str, str], Any] = {}
    for folder in folders:
        _load_folder(Path(folder), found)
    return CrdSchemas(Path(folders[0]), found, folders=tuple(map(Path, folders)))


def _load_folder(root: Path, found: dict[tuple[str, str], Any]) -> None:
    for path in sorted(root.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            docs = list(yaml.load_all(text, Loader=_loader()))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name} is not YAML or JSON") from exc
        for doc in docs:
            if (
                isinstance(doc, Mapping)
                and doc.get("kind") == "CustomResourceDefinition"
            ):
                for key, schema in _from_crd(doc):
                    found.setdefault(key, schema)
        parts = path.name.removesuffix(".openapiv3.json").split("_")
        if path.name.endswith(".openapiv3.json") and len(parts) == 3 and docs:
            group, version, kind = parts
            kinds = {k for (_, k) in found if k.lower() == kind.lower()}
            name = next(iter(kinds), kind)
            found.setdefault((f"{group}/{version}", name), json.loads(text))
