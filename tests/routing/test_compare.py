"""
Comparators: exact, normalized_text and json_fields (schema fields or the source's
keys), and a callable that raises or strays out of [0, 1] scoring 0, logged once a minute.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from holysheep_client import ChatResponse
from holysheep_client._content.schemas import normalize_response_format
from holysheep_client._routing.compare import (
    Scorer,
    exact,
    json_fields,
    normalized_text,
)
from holysheep_client.testing import FakeClock


def answer(text: str) -> ChatResponse:
    return ChatResponse(text=text, model="m", provider="p")


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        pytest.param("Positive.", "Positive.", 1.0, id="same"),
        pytest.param("Positive.", "positive", 0.0, id="case"),
    ],
)
def test_exact(a: str, b: str, score: float) -> None:
    """exact scores 1 only for identical texts."""
    assert exact(answer(a), answer(b)) == score


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        pytest.param("Positive.", "  positive ", 1.0, id="case-space-period"),
        pytest.param("Ｐｏｓｉｔｉｖｅ", "positive", 1.0, id="nfkc"),
        pytest.param("Positive", "Negative", 0.0, id="different"),
    ],
)
def test_normalized_text(a: str, b: str, score: float) -> None:
    """normalized_text ignores case, width, white space and end punctuation."""
    assert normalized_text(answer(a), answer(b)) == score


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        pytest.param(
            '{"label": "pos", "flag": false}',
            '{"flag": false, "label": "pos"}',
            1.0,
            id="same-keys-any-order",
        ),
        pytest.param(
            '{"label": "pos", "flag": false}',
            '{"label": "neg", "flag": false}',
            0.5,
            id="one-of-two",
        ),
        pytest.param(
            '{"label": "pos"}',
            '{"label": "pos", "extra": 1}',
            1.0,
            id="source-keys-only",
        ),
        pytest.param(
            '{"label": "pos", "flag": false}', '{"label": "pos"}', 0.5, id="missing-key"
        ),
        pytest.param('{"label": "pos"}', "pos", 0.0, id="target-not-json"),
        pytest.param("pos", '{"label": "pos"}', 0.0, id="source-not-json"),
        pytest.param("[1, 2]", "[1, 2]", 1.0, id="equal-non-objects"),
    ],
)
def test_json_fields_without_a_schema(a: str, b: str, score: float) -> None:
    """Without response_format, json_fields compares the source's top-level keys."""
    assert json_fields(answer(a), answer(b)) == score


def test_json_fields_with_a_schema_compares_its_fields() -> None:
    """With response_format, the schema's properties are the fields compared."""
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string"}, "score": {"type": "number"}},
    }
    output = normalize_response_format(schema)
    assert output is not None
    a = answer('{"label": "pos", "score": 1, "note": "x"}')
    b = answer('{"label": "pos", "score": 2, "note": "y"}')
    assert json_fields(a, b, output) == 0.5
    assert json_fields(a, b) == pytest.approx(1 / 3)


def boom(source: Any, target: Any) -> float:
    raise RuntimeError("the comparator broke")


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(boom, id="raises"),
        pytest.param(lambda s, t: 1.5, id="above-1"),
        pytest.param(lambda s, t: -0.1, id="below-0"),
        pytest.param(lambda s, t: float("nan"), id="nan"),
        pytest.param(lambda s, t: "1", id="not-a-number"),
        pytest.param(lambda s, t: True, id="bool"),
    ],
)
def test_a_bad_callable_is_a_disagreement(
    fn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A comparator that raises or returns no number in [0, 1] scores 0 and is logged."""
    caplog.set_level(logging.WARNING, logger="holysheep_client")
    scorer = Scorer(fn, clock=FakeClock())
    assert scorer(answer("a"), answer("a")) == 0.0
    assert len(caplog.records) == 1
    assert "the comparator broke" not in caplog.text


def test_a_bad_comparator_is_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Repeated failures log one line per minute of the client's clock."""
    caplog.set_level(logging.WARNING, logger="holysheep_client")
    clock = FakeClock()
    scorer = Scorer(boom, clock=clock)
    for _ in range(5):
        scorer(answer("a"), answer("b"))
    clock.advance(59)
    scorer(answer("a"), answer("b"))
    assert len(caplog.records) == 1
    clock.advance(2)
    scorer(answer("a"), answer("b"))
    assert len(caplog.records) == 2


def test_a_good_callable_is_used() -> None:
    """A callable's score in [0, 1] is the agreement."""
    scorer = Scorer(lambda s, t: 0.25, clock=FakeClock())
    assert scorer(answer("a"), answer("b")) == 0.25
