"""
The filters that keep a resumed stream seamless, and the prefill request.
"""

from __future__ import annotations

import pytest

from holysheep_client import StreamInterruptedError, TextBlock
from holysheep_client._client.resume import PrefixFilter, SkipFilter, resume_messages
from holysheep_client._client.spec import build_spec
from holysheep_client._content.blocks import Message


def test_the_prefill_drops_trailing_white_space() -> None:
    """The prefill is the text so far without its trailing white space, which is skipped."""
    spec = build_spec(
        [{"role": "user", "content": "q"}],
        model="m", max_tokens=10, temperature=None, stream=True, extra=None,
    )  # fmt: skip
    prefill, skip = resume_messages(spec, "The quick ")
    last = prefill.conversation.messages[-1]
    assert last == Message("assistant", (TextBlock("The quick"),))
    assert skip == " " and len(spec.conversation.messages) == 1


@pytest.mark.parametrize(
    ("deltas", "expected"),
    [
        pytest.param([" brown", " fox"], ["brown", " fox"], id="repeated"),
        pytest.param(["brown", " fox"], ["brown", " fox"], id="not-repeated"),
        pytest.param(["", " ", "brown"], ["", "", "brown"], id="split"),
    ],
)
def test_skip_filter_drops_only_the_white_space_the_prefill_lacked(
    deltas: list[str], expected: list[str]
) -> None:
    """The continuation's first white space is dropped once, and only if it repeats it."""
    f = SkipFilter(" ")
    assert [f.feed(d) for d in deltas] == expected


def test_prefix_filter_passes_on_past_the_delivered_text() -> None:
    """A restart that begins with the delivered text continues right after it."""
    f = PrefixFilter("The quick", "p")
    assert [f.feed(d) for d in ["The", " qu", "ick bro", "wn"]] == [
        "",
        "",
        " bro",
        "wn",
    ]
    f.end()


@pytest.mark.parametrize(
    "deltas", [["The slow"], ["Th", "e", " slow"]], ids=["at-once", "late"]
)
def test_prefix_filter_gives_up_on_a_different_restart(deltas: list[str]) -> None:
    """A restart that differs raises as soon as it shows."""
    f = PrefixFilter("The quick", "p")
    for d in deltas[:-1]:
        assert f.feed(d) == ""
    with pytest.raises(StreamInterruptedError) as info:
        f.feed(deltas[-1])
    assert info.value.partial_text == "The quick"


def test_prefix_filter_raises_when_the_restart_ends_short() -> None:
    """A restart that ends before covering the delivered text is not a continuation."""
    f = PrefixFilter("The quick", "p")
    assert f.feed("The") == ""
    with pytest.raises(StreamInterruptedError):
        f.end()
