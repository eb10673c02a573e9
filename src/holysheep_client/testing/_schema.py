"""
JSON-schema helpers of the fake: a value that satisfies a schema, and the checks
OpenAI's strict structured outputs apply to a schema.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["schema_example", "strict_schema_problem"]

_COMBINERS = ("anyOf", "oneOf", "allOf")


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return {}
        node = node[part]
    return node if isinstance(node, Mapping) else {}


def schema_example(schema: Any) -> Any:
    """
    A value that satisfies ``schema``, built from it: the fake's default JSON answer.

    The first ``enum`` value or the ``const``, else the ``default``, else by
    type: ``""`` (``format``-aware for dates), ``0``, ``False``, ``None``, an
    empty list (``minItems`` copies of the item), and objects with every
    property (required or not) filled in the same way. ``$ref`` into the same
    document and ``anyOf``/``oneOf``/``allOf`` (the first branch) are followed.

    Args:
        schema: A JSON schema (a dict; anything else gives ``None``).

    Returns:
        The value, e.g. ``{"status": "pending", "count": 0}``.
    """
    return _example(schema, schema, 0)


def _example(schema: Any, root: Any, depth: int) -> Any:
    # depth guards against self-referencing schemas.
    if not isinstance(schema, Mapping) or depth > 16:
        return None
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "default" in schema:
        return schema["default"]
    for key in _COMBINERS:
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for branch in branches:
                    merged.update(
                        _resolve(branch, root) if isinstance(branch, Mapping) else {}
                    )
                return _example(merged, root, depth + 1)
            return _example(branches[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return {}
        return {name: _example(sub, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = schema.get("minItems", 0)
        item = _example(schema.get("items"), root, depth + 1)
        return [item] * count if isinstance(count, int) and count > 0 else []
    if kind == "string":
        return _string_for(schema)
    if kind == "integer":
        return _number_for(schema, integer=True)
    if kind == "number":
        return _number_for(schema, integer=False)
    if kind == "boolean":
        return False
    return None


def _string_for(schema: Mapping[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "date":
        return "2025-01-01"
    if fmt == "time":
        return "00:00:00"
    if fmt == "email":
        return "user@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com"
    if fmt == "uuid":
        return "00000000-0000-0000-0000-000000000000"
    length = schema.get("minLength")
    return "x" * length if isinstance(length, int) and length > 0 else ""


def _number_for(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    value: int | float = 0
    low = schema.get("minimum")
    if isinstance(low, int | float) and not isinstance(low, bool) and low > value:
        value = low
    above = schema.get("exclusiveMinimum")
    if (
        isinstance(above, int | float)
        and not isinstance(above, bool)
        and value <= above
    ):
        value = above + 1
    return math.ceil(value) if integer else value


def strict_schema_problem(schema: Any, *, kind: str, name: str) -> str | None:
    """
    Why OpenAI refuses ``schema`` in strict mode, in its words; ``None`` if it is fine.

    Every object must say ``additionalProperties: false`` and list every
    property in ``required``; combiners may not sit at the root.

    Args:
        schema: The JSON schema.
        kind: ``"response_format"`` or ``"function"``, for the message.
        name: The schema's or the function's name, for the message.
    """
    prefix = f"Invalid schema for {kind} '{name}': "
    if not isinstance(schema, Mapping):
        return prefix + "schema must be a JSON Schema of 'type: \"object\"'."
    if schema.get("type") != "object" and "$ref" not in schema:
        got = schema.get("type")
        return (
            prefix
            + f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
        )
    return _strict_walk(schema, (), prefix)


def _context(path: tuple[str, ...]) -> str:
    return (
        "(" + ", ".join(repr(p) for p in path) + ("," if len(path) == 1 else "") + ")"
    )


def _strict_walk(node: Any, path: tuple[str, ...], prefix: str) -> str | None:
    if not isinstance(node, Mapping):
        return None
    kind = node.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if is_object:
        if node.get("additionalProperties") is not False:
            return (
                prefix + f"In context={_context(path)}, 'additionalProperties' is"
                " required to be supplied and to be false."
            )
        props = node.get("properties", {})
        if not isinstance(props, Mapping):
            props = {}
        required = node.get("required", [])
        missing = [
            p for p in props if not isinstance(required, list) or p not in required
        ]
        if missing:
            return (
                prefix + f"In context={_context(path)}, 'required' is required to be"
                " supplied and to be an array including every key in properties."
                f" Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = _strict_walk(sub, (*path, "properties", str(key)), prefix)
            if problem:
                return problem
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), Mapping):
            problem = _strict_walk(node[key], (*path, key), prefix)
            if problem:
                return problem
    for key in (*_COMBINERS, "prefixItems"):
        branches = node.get(key)
        if isinstance(branches, list):
            for i, sub in enumerate(branches):
                problem = _strict_walk(sub, (*path, key, str(i)), prefix)
                if problem:
                    return problem
    for key in ("$defs", "definitions"):
        defs = node.get(key)
        if isinstance(defs, Mapping):
            for def_name, sub in defs.items():
                problem = _strict_walk(sub, (*path, key, str(def_name)), prefix)
                if problem:
                    return problem
    return None
