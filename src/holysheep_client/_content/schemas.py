"""
Structured output: ``response_format`` (a pydantic model class, a JSON-schema dict, or
``"json"``) as one `OutputFormat`, its strict form for the OpenAI protocol, and the
check of an answer against it.

An answer that does not validate is a provider fault (`OutputValidationError`), retried
and failed over like one.
"""

from __future__ import annotations

import copy
import json
import marshal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._runtime import RUNTIME
from ..errors import BadRequestError
from .encoded import CACHE_LIMIT, marshal_key, remember
from .validate import SchemaError, check_instance

__all__ = ["OUTPUT_TOOL", "OutputFormat", "normalize_response_format", "strict_schema"]

#: The name of the forced tool that carries structured output on the Anthropic protocol.
OUTPUT_TOOL = "structured_output"

# Keywords OpenAI's strict mode does not take: a schema using one is sent non-strict.
_NOT_STRICT = frozenset(
    {
        "patternProperties", "unevaluatedProperties", "propertyNames", "if", "then",
        "else", "dependentRequired", "dependentSchemas", "minProperties",
        "maxProperties", "contains", "not",
    }
)  # fmt: skip
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """
    The structured output a call asks for.

    Attributes:
        kind: ``"json_schema"`` (a schema) or ``"json"`` (any JSON object).
        name: The schema's name (a model class's name, or a schema's title).
        schema: The JSON schema (``{"type": "object"}`` for ``"json"``).
        strict: The schema made strict for OpenAI, or ``None`` when it cannot be.
        model: The pydantic model class, when one was given.
    """

    kind: Literal["json_schema", "json"]
    name: str
    schema: Mapping[str, Any]
    strict: Mapping[str, Any] | None
    model: type[Any] | None = None

    def parse(self, text: str) -> Any:
        """
        The validated answer: a model instance, or a dict.

        Raises:
            ValueError: The text is not JSON, or does not match the schema.
        """
        if self.model is not None:
            return self.model.model_validate_json(text)
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("the answer is not a JSON object")
        if self.kind == "json_schema":
            try:
                check_instance(value, self.schema)
            except SchemaError as exc:
                raise ValueError(str(exc)) from None
        return value


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """
    ``schema`` in OpenAI's strict form: every object closed, every property required.

    Returns:
        The strict copy, or ``None`` when the schema cannot be made strict (open
        objects, or keywords strict mode does not take).
    """
    out = copy.deepcopy(dict(schema))
    return out if _strict(out) else None


def _strict(node: Any) -> bool:
    """Close the objects of ``node`` in place; False when it cannot be strict."""
    if not isinstance(node, dict):
        return True
    if _NOT_STRICT & node.keys():
        return False
    if node.get("default", 0) is None:
        del node["default"]  # a None default is what "not required" meant
    ok = True
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties", False) not in (False, None):
            return False
        node["additionalProperties"] = False
        props = node.setdefault("properties", {})
        node["required"] = list(props)
        ok = all(_strict(v) for v in props.values())
    if isinstance(node.get("items"), dict):
        ok = _strict(node["items"]) and ok
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(node.get(key), list):
            ok = all(_strict(x) for x in node[key]) and ok
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            ok = all(_strict(x) for x in node[key].values()) and ok
    return ok


def _model_format(model: type[Any]) -> OutputFormat:
    def build() -> OutputFormat:
        schema = model.model_json_schema()
        return OutputFormat(
            "json_schema",
            _safe_name(model.__name__),
            schema,
            strict_schema(schema),
            model,
        )

    return RUNTIME.cached(("output-format", model), build)


def _safe_name(name: object) -> str:
    text = _NAME_UNSAFE.sub("_", name) if isinstance(name, str) and name else "answer"
    return text[:64]


def _is_model(value: object) -> bool:
    return isinstance(value, type) and callable(
        getattr(value, "model_json_schema", None)
    )


def normalize_response_format(value: object) -> OutputFormat | None:
    """
    ``response_format`` as an `OutputFormat`.

    Accepts a pydantic model class, a JSON schema (``{"type": "object", ...}``), the
    OpenAI wrappers (``{"type": "json_schema", "json_schema": {...}}``,
    ``{"type": "json_object"}``) and ``"json"``.

    Raises:
        BadRequestError: Anything else, or a schema that is not an object schema.
    """
    if value is None:
        return None
    if value == "json" or (
        isinstance(value, Mapping) and value.get("type") == "json_object"
    ):
        obj = {"type": "object"}
        return OutputFormat("json", "json_object", obj, None)
    if _is_model(value):
        assert isinstance(value, type)
        return _model_format(value)
    if isinstance(value, Mapping) and value.get("type") == "json_schema":
        inner = value.get("json_schema")
        if not isinstance(inner, Mapping) or not isinstance(
            inner.get("schema"), Mapping
        ):
            raise BadRequestError(
                "response_format.json_schema.schema: expected a JSON schema"
            )
        return _schema_format(inner["schema"], inner.get("name"))
    if isinstance(value, Mapping):
        return _schema_format(value, value.get("title"))
    raise BadRequestError(
        "response_format: expected a pydantic model class, a JSON-schema dict or 'json'"
    )


def _schema_format(schema: Mapping[str, Any], name: object) -> OutputFormat:
    """
    The format of a schema dict, once per content (see ``encoded.py``): the strict
    copy's deep copy costs more than the rest of a call's body together.
    """
    key = marshal_key((schema, name))
    if key is None:
        return _check_format(schema, name)

    def build() -> OutputFormat:
        own_schema, own_name = marshal.loads(key)
        out = _check_format(own_schema, own_name)
        remember(out.schema)
        if out.strict is not None:
            remember(out.strict)
        return out

    return RUNTIME.bounded("output-format", key, build, CACHE_LIMIT)


def _check_format(schema: Mapping[str, Any], name: object) -> OutputFormat:
    if schema.get("type") != "object" or not isinstance(
        schema.get("properties", {}), Mapping
    ):
        raise BadRequestError(
            "response_format: expected an object schema ({'type': 'object', ...})"
        )
    required = schema.get("required", [])
    if not isinstance(required, Sequence) or isinstance(required, str):
        raise BadRequestError("response_format.required: expected a list of names")
    return OutputFormat("json_schema", _safe_name(name), schema, strict_schema(schema))
