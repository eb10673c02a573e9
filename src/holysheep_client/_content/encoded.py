"""
JSON text of the large, repeated parts of a request (tool and output schemas), encoded
once per content, and `dumps`, which splices such text into a body as it is.

A service sends the same tool schemas with every call of a tool loop. Encoding a 2 KB
schema costs more than the rest of the call's body together, twice over (the token
estimate measures it, the body carries it). `schema_json` keys its cache on the
schema's ``marshal`` form: exact (``1``, ``1.0`` and ``True`` differ, as do the
order of keys and every nested value), so a hit is the same content and a schema
changed in place is a miss, never stale text. ``marshal`` takes only plain ``dict``,
``list``, ``str``, numbers, ``bool`` and ``None``; anything else is encoded each time.

The tools a call gives as plain dicts are normalized once per content the same way
(`holysheep_client._content.tools`), into `Tool` objects over private copies of
their schemas that nothing else holds; `remember` notes those copies' text by
identity, so the calls that reuse them skip even the ``marshal`` key.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Mapping
from typing import Any, Final, cast

from .._runtime import RUNTIME

__all__ = ["RawJSON", "dumps", "marshal_key", "remember", "schema_json"]

#: Distinct schemas kept; the cache is emptied when it would hold more.
CACHE_LIMIT: Final = 512
# No back-references in the key (marshal version 3 added them): the same content
# gives the same bytes whichever objects it shares.
_MARSHAL_VERSION: Final = 2
# The placeholder a `RawJSON` is encoded as, then replaced by its text. Its JSON form
# (with its quotes) can only be a whole string value or key equal to it; `dumps`
# counts the placeholders and encodes the body the slow way when a caller's string
# happens to be one.
_MARK: Final = "\x00holysheep-raw-json\x00"
_MARK_JSON: Final = json.dumps(_MARK)


class RawJSON:
    """
    A value already encoded as JSON text, put in a body by `dumps` unchanged.

    Args:
        text: The value's JSON text.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<RawJSON {len(self.text)} chars>"


def _encode(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def marshal_key(value: object) -> bytes | None:
    """
    The exact content key of ``value``, or ``None`` when ``marshal`` cannot take it.
    """
    try:
        return marshal.dumps(cast(Any, value), _MARSHAL_VERSION)
    except ValueError:  # a Mapping that is not a plain dict, an object, ...
        return None


def remember(schema: Mapping[str, Any]) -> None:
    """
    Note the text of ``schema``, a private copy no caller can change, by identity.
    """
    text = schema_json(schema)
    RUNTIME.bounded("schema-json-id", id(schema), lambda: (schema, text), CACHE_LIMIT)


def schema_json(schema: Mapping[str, Any]) -> str:
    """
    ``schema`` as JSON text (UTF-8 characters as they are), from the cache when the
    same content was encoded before.
    """
    known = RUNTIME.lookup("schema-json-id", id(schema))
    if known is not None and known[0] is schema:  # held there, so the id is its
        text: str = known[1]
        return text
    key = marshal_key(schema)
    if key is None:
        return _encode(schema)
    return RUNTIME.bounded("schema-json", key, lambda: _encode(schema), CACHE_LIMIT)


def _plain(value: Any) -> Any:
    """``value`` with every `RawJSON` decoded back into data."""
    if isinstance(value, RawJSON):
        return json.loads(value.text)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dumps(body: Mapping[str, Any]) -> bytes:
    """
    ``body`` as UTF-8 JSON, every `RawJSON` in it spliced in as its text.
    """
    raws: list[str] = []

    def default(value: object) -> str:
        if isinstance(value, RawJSON):
            raws.append(value.text)
            return _MARK
        raise TypeError(
            f"Object of type {type(value).__name__} is not JSON serializable"
        )

    text = json.dumps(body, ensure_ascii=False, default=default)
    if not raws:
        return text.encode()
    parts = text.split(_MARK_JSON)
    if len(parts) != len(raws) + 1:  # a caller's own string was the placeholder
        return _encode(_plain(body)).encode()
    out = [parts[0]]
    for raw, part in zip(raws, parts[1:], strict=True):
        out += (raw, part)
    return "".join(out).encode()
