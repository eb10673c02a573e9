"""
A small JSON-schema check for structured-output answers: the subset schemas for
model output use (types, properties, required, closed objects, items, enum, const,
anyOf / oneOf / allOf, local ``$ref``, and the numeric, length and pattern bounds).

Owned rather than a dependency: answers are small, and the check runs once per call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaError", "check_instance"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


class SchemaError(ValueError):
    """
    An instance that does not match its schema; the message names the path.
    """


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def _resolve(ref: str, root: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Any = root
    if not ref.startswith("#"):
        raise SchemaError(f"{path}: only local $ref is supported, found {ref!r}")
    for part in [p for p in ref[1:].split("/") if p]:
        if not isinstance(node, Mapping) or part not in node:
            raise SchemaError(f"{path}: $ref {ref!r} points nowhere")
        node = node[part]
    if not isinstance(node, Mapping):
        raise SchemaError(f"{path}: $ref {ref!r} is not a schema")
    return node


def _check(
    value: Any, schema: Any, root: Mapping[str, Any], path: str, depth: int
) -> None:
    if depth > 64:
        raise SchemaError(f"{path}: the schema nests too deeply")
    if schema is True or schema is None:
        return
    if schema is False:
        raise SchemaError(f"{path}: no value is allowed here")
    if not isinstance(schema, Mapping):
        return
    if "$ref" in schema:
        _check(value, _resolve(str(schema["$ref"]), root, path), root, path, depth + 1)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, str(k)) for k in kinds):
            raise SchemaError(f"{path}: expected {' or '.join(map(str, kinds))}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: expected one of {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(f"{path}: expected {schema['const']!r}")
    for key in ("allOf", "anyOf", "oneOf"):
        options = schema.get(key)
        if not isinstance(options, list):
            continue
        passed = 0
        for option in options:
            try:
                _check(value, option, root, path, depth + 1)
                passed += 1
            except SchemaError:
                if key == "allOf":
                    raise
        if key == "anyOf" and not passed or key == "oneOf" and passed != 1:
            raise SchemaError(f"{path}: matches {passed} of the {key} options")
    if isinstance(value, dict):
        _object(value, schema, root, path, depth)
    elif isinstance(value, list):
        _array(value, schema, root, path, depth)
    elif isinstance(value, str):
        _string(value, schema, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _number(value, schema, path)


def _object(
    value: dict[Any, Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: str,
    depth: int,
) -> None:
    props = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(f"{path}: the required property {name!r} is missing")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        here = f"{path}.{name}"
        if isinstance(props, Mapping) and name in props:
            _check(item, props[name], root, here, depth + 1)
        elif extra is False:
            raise SchemaError(f"{path}: the property {name!r} is not allowed")
        elif isinstance(extra, Mapping):
            _check(item, extra, root, here, depth + 1)


def _array(
    value: list[Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: str,
    depth: int,
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        raise SchemaError(f"{path}: expected at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaError(f"{path}: expected at most {schema['maxItems']} items")
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(value):
            _check(item, items, root, f"{path}[{i}]", depth + 1)


def _string(value: str, schema: Mapping[str, Any], path: str) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise SchemaError(f"{path}: expected at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaError(f"{path}: expected at most {schema['maxLength']} characters")
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.search(pattern, value) is None:
        raise SchemaError(f"{path}: does not match the pattern {pattern!r}")


def _number(value: float, schema: Mapping[str, Any], path: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(f"{path}: expected at least {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(f"{path}: expected at most {schema['maximum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise SchemaError(f"{path}: expected more than {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        raise SchemaError(f"{path}: expected less than {schema['exclusiveMaximum']}")


def check_instance(value: Any, schema: Mapping[str, Any]) -> None:
    """
    Check ``value`` against ``schema``.

    Raises:
        SchemaError: Naming the first path that does not match (``$.order.id``).
    """
    _check(value, schema, schema, "$", 0)
