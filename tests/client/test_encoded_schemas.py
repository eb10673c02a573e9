"""
Schemas encoded once per content: the spliced body equals the plain encoding, a hit is
the same content and nothing else (``1``, ``1.0`` and ``True`` differ), a schema changed
in place is sent as it is now, and the caches stay bounded; on both clients, the
strict fake receives a tool schema changed between two calls as changed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from client_helpers import config, fakes
from hypothesis import given, settings
from hypothesis import strategies as st

from holysheep_client import Tool
from holysheep_client._content.encoded import (
    _MARK,
    CACHE_LIMIT,
    RawJSON,
    dumps,
    schema_json,
)
from holysheep_client._content.schemas import normalize_response_format
from holysheep_client._content.tools import normalize_tools
from holysheep_client._runtime import RUNTIME
from shells import Shell

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"order_id": {"type": "string", "description": "Bestellnr. №"}},
    "required": ["order_id"],
}


def test_dumps_splices_raw_json_to_the_plain_encoding() -> None:
    body = {
        "model": "m",
        "tools": [{"name": "t", "input_schema": RawJSON(schema_json(SCHEMA))}],
        "tail": ["x", 1],
    }
    plain = {**body, "tools": [{"name": "t", "input_schema": SCHEMA}]}
    assert json.loads(dumps(body)) == plain
    assert dumps(body) == json.dumps(plain, ensure_ascii=False).encode()
    assert "№" in dumps(body).decode()  # UTF-8 as it is, as before


def test_a_callers_string_equal_to_the_placeholder_is_kept() -> None:
    body = {"a": RawJSON('{"k": 1}'), "b": _MARK, _MARK: [RawJSON("[2]")]}
    assert json.loads(dumps(body)) == {"a": {"k": 1}, "b": _MARK, _MARK: [[2]]}


def test_a_non_json_value_is_still_a_type_error() -> None:
    with pytest.raises(TypeError, match="object"):
        dumps({"a": object()})


@pytest.mark.parametrize("value", [1, 1.0, True, "1", None, [1]])
def test_a_hit_is_the_same_content_only(value: Any) -> None:
    texts = [schema_json({"type": "object", "default": v}) for v in (1, 1.0, True)]
    assert len(set(texts)) == 3  # equal under ==, three different encodings
    got = schema_json({"type": "object", "default": value})
    assert json.loads(got) == {"type": "object", "default": value}
    assert type(json.loads(got)["default"]) is type(value)


def test_a_schema_changed_in_place_is_encoded_as_it_is_now() -> None:
    schema = copy.deepcopy(SCHEMA)
    before = schema_json(schema)
    schema["properties"]["note"] = {"type": "string"}
    after = schema_json(schema)
    assert json.loads(before) == SCHEMA and json.loads(after) == schema
    # A Mapping marshal cannot take (not a plain dict) is encoded every time.
    assert json.loads(schema_json(_Proxy(schema))) == schema


class _Proxy(dict[str, Any]):
    """A dict subclass: not plain data for marshal."""


def test_tools_from_dicts_are_normalized_once_per_content() -> None:
    tools = [{"name": "t", "description": "d", "input_schema": copy.deepcopy(SCHEMA)}]
    first = normalize_tools(tools)
    assert normalize_tools(copy.deepcopy(tools)) is first
    # The Tool holds a private copy: changing the caller's dict changes neither the
    # earlier answer nor the text encoded for it, and the next call sees the change.
    tools[0]["input_schema"]["properties"]["extra"] = {"type": "integer"}
    assert "extra" not in first[0].input_schema
    assert "extra" not in json.loads(schema_json(first[0].input_schema))["properties"]
    second = normalize_tools(tools)
    assert second is not first and "extra" in second[0].input_schema["properties"]
    # Our Tool objects (not plain data) take the per-schema path and stay themselves.
    own = Tool("t", "d", SCHEMA)
    assert normalize_tools([own])[0] == own


def test_bad_tools_are_refused_every_time_not_cached() -> None:
    from holysheep_client.errors import BadRequestError

    bad = [{"name": "no spaces allowed", "input_schema": SCHEMA}]
    for _ in range(2):
        with pytest.raises(BadRequestError, match=r"tools\[0\]\.name"):
            normalize_tools(bad)


def test_a_response_format_schema_is_made_strict_once_per_content() -> None:
    schema = copy.deepcopy(SCHEMA)
    first = normalize_response_format(schema)
    assert (
        first is not None and normalize_response_format(copy.deepcopy(schema)) is first
    )
    assert first.strict is not None and first.strict["additionalProperties"] is False
    schema["properties"]["x"] = {"type": "integer"}
    second = normalize_response_format(schema)
    assert second is not None and "x" in second.schema["properties"]
    assert "x" not in first.schema["properties"]


def test_the_caches_stay_bounded() -> None:
    for i in range(CACHE_LIMIT + 10):
        schema_json({"type": "object", "title": f"s{i}"})
        normalize_tools([{"name": f"t{i}", "input_schema": SCHEMA}])
    for space in ("schema-json", "schema-json-id", "tools"):
        entries = RUNTIME._bounded[space]
        assert 0 < len(entries) <= CACHE_LIMIT


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["anthropic", "openai"])
async def test_a_tool_schema_changed_between_calls_reaches_the_provider(
    shell: Shell, protocol: str
) -> None:
    schema = copy.deepcopy(SCHEMA)
    tools = [{"name": "lookup_order", "input_schema": schema}]
    fp = fakes("a")
    async with shell.client(config(("a", protocol)), fakes=fp) as client:
        ask = [{"role": "user", "content": "hi"}]
        await client.chat(messages=ask, model="m", tools=tools)
        schema["properties"]["order_id"]["maxLength"] = 12
        await client.chat(messages=ask, model="m", tools=tools)
    first, second = (r.body for r in fp["a"].requests if r.endpoint == "chat")

    def sent(body: dict[str, Any]) -> Any:
        [tool] = body["tools"]
        if protocol == "anthropic":
            return tool["input_schema"]
        return tool["function"]["parameters"]

    assert "maxLength" not in sent(first)["properties"]["order_id"]
    assert sent(second)["properties"]["order_id"]["maxLength"] == 12
    assert sent(second)["required"] == ["order_id"]


_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _rawify(value: Any, draw: Any) -> Any:
    """``value`` with some of its nested values replaced by their `RawJSON`."""
    if isinstance(value, dict):
        return {
            k: RawJSON(json.dumps(v, ensure_ascii=False))
            if draw(st.booleans())
            else _rawify(v, draw)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rawify(v, draw) for v in value]
    return value


@settings(max_examples=60, deadline=None)
@given(body=st.dictionaries(st.text(max_size=8), _JSON, max_size=5), data=st.data())
def test_a_spliced_body_decodes_as_the_plain_one(
    body: dict[str, Any], data: Any
) -> None:
    """Any JSON body, some values pre-encoded (the placeholder itself among the
    strings the caller may send), decodes as the body encoded in one go."""
    body = {**body, "mark": _MARK} if data.draw(st.booleans()) else body
    spliced = _rawify(body, data.draw)
    assert json.loads(dumps(spliced)) == json.loads(json.dumps(body))
