"""
The shadow policy: a seeded sample of the source's calls, the in-flight cap (over it,
samples are skipped and counted), its own counts, and ShadowConfig's bad input.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from holysheep_client import (
    ChatResponse,
    ConfigError,
    GateConfig,
    MigrationConfig,
    MigrationPhase,
    ShadowConfig,
)
from holysheep_client._client.spec import build_spec
from holysheep_client._routing.shadow import ShadowPolicy

SPEC = build_spec(
    [{"role": "user", "content": "x"}],
    model="m", max_tokens=10, temperature=None, stream=True, extra=None,
)  # fmt: skip
SOURCE = ChatResponse(text="a", model="m", provider="legacy")


def policy(**kw: Any) -> ShadowPolicy:
    return ShadowPolicy(ShadowConfig(**kw), "holysheep", rng=random.Random(3))


def test_the_sample_is_the_configured_share() -> None:
    """About ``sample`` of the source's calls are admitted (seeded draw)."""
    p = policy(sample=0.25, max_in_flight=10_000)
    admitted = sum(p.admit(SPEC, SOURCE, 0.0)[0] is not None for _ in range(4000))
    assert 900 < admitted < 1100


def test_over_the_cap_samples_are_skipped_and_counted() -> None:
    """With max_in_flight running, a sampled call is skipped; a finished one frees a slot."""
    p = policy(sample=1.0, max_in_flight=2)
    jobs = [p.admit(SPEC, SOURCE, 0.0) for _ in range(5)]
    assert [j is not None for j, _ in jobs] == [True, True, False, False, False]
    assert [skipped for _, skipped in jobs] == [False, False, True, True, True]
    assert p.in_flight == 2 and p.peak == 2
    p.done("answered", 0.002)
    assert p.admit(SPEC, SOURCE, 0.0)[0] is not None
    assert p.peak == 2
    assert p.status().skipped == 3


def test_a_shadow_call_is_never_streamed() -> None:
    """The job carries the call's request with streaming off."""
    job, _ = policy(sample=1.0).admit(SPEC, SOURCE, 1.5)
    assert job is not None and SPEC.stream and not job.spec.stream
    assert job.started == 1.5 and job.target == "holysheep"


def test_counts_by_outcome() -> None:
    """Answered and failed calls count as sent, refused ones as skipped, cost apart."""
    p = policy(sample=1.0, max_in_flight=10)
    for _ in range(4):
        p.admit(SPEC, SOURCE, 0.0)
    p.done("answered", 0.5)
    p.done("failed")
    p.done("refused")
    p.done("abandoned")
    s = p.status()
    assert (s.sent, s.failed, s.skipped, s.cost_usd) == (2, 1, 1, 0.5)
    assert p.in_flight == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param({"sample": 1.5}, "sample", id="sample-above-1"),
        pytest.param({"sample": -0.1}, "sample", id="sample-below-0"),
        pytest.param({"max_in_flight": 0}, "max_in_flight", id="in-flight-0"),
        pytest.param({"max_in_flight": -3}, "max_in_flight", id="in-flight-negative"),
        pytest.param(
            {"comparator": "levenshtein"}, "comparator", id="unknown-comparator"
        ),
        pytest.param({"comparator": 42}, "comparator", id="not-callable"),
    ],
)
def test_bad_shadow_config_names_the_field(kw: dict[str, Any], field: str) -> None:
    """Bad shadow settings raise ConfigError naming the field, never the value."""
    with pytest.raises(ConfigError) as err:
        ShadowConfig(**kw)
    assert err.value.field == field
    assert "levenshtein" not in str(err.value)


def test_min_agreement_needs_shadow_traffic() -> None:
    """A gate judging agreement without shadow traffic is refused, naming the field."""
    with pytest.raises(ConfigError) as err:
        MigrationConfig(
            source="a",
            target="b",
            phases=[MigrationPhase(name="p", weight=5)],
            gate=GateConfig(min_agreement=0.9),
        )
    assert err.value.field == "gate.min_agreement"


def test_a_callable_comparator_is_taken() -> None:
    """Any callable is a valid comparator."""
    assert callable(ShadowConfig(comparator=lambda s, t: 1.0).comparator)
