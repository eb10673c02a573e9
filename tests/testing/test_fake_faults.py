"""
Fault objects and the ordered, seeded fault plan.
"""

from __future__ import annotations

from typing import Any

import pytest

from holysheep_client.testing import Fault, FaultPlan
from holysheep_client.testing._faults import MatchContext

CHAT = MatchContext(
    protocol="anthropic", endpoint="chat", model="m", stream=True, has_prefill=False
)
MODELS = MatchContext(
    protocol="openai", endpoint="models", model=None, stream=False, has_prefill=False
)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=429, retry_after=2, retry_after_ms=1500, times=1),
        Fault("status", status=503, retry_after="Wed, 01 Jan 2026 00:00:05 GMT"),
        Fault("stall", delay=0.5, after_chunks=2, probability=0.25, match_model="m"),
        Fault("no_done", with_finish_reason=False, match_protocol="openai"),
        Fault("latency", delay=1.0, match_stream=False),
        Fault("drip", rate=25, drip="headers"),
    ],
    ids=["status", "status-date", "stall", "no_done", "latency", "drip"],
)
def test_fault_round_trips_through_json_data(fault: Fault) -> None:
    """A fault survives to_dict/from_dict unchanged, so the admin API can carry it."""
    assert Fault.from_dict(fault.to_dict()) == fault


def test_to_dict_lists_only_non_default_fields() -> None:
    """to_dict names the kind and only the fields that differ from the defaults."""
    assert Fault("cut", after_chunks=3).to_dict() == {"kind": "cut", "after_chunks": 3}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "status"}, "status"),
        ({"kind": "status", "status": 200}, "status"),
        ({"kind": "latency", "delay": -1}, "delay"),
        ({"kind": "cut", "times": -1}, "times"),
        ({"kind": "cut", "probability": 1.5}, "probability"),
        ({"kind": "cut", "match_protocol": "grpc"}, "match_protocol"),
        ({"kind": "drip", "rate": 0}, "rate"),
        ({"kind": "drip", "drip": "trailers"}, "drip"),
    ],
    ids=[
        "kind",
        "no-status",
        "ok-status",
        "delay",
        "times",
        "probability",
        "protocol",
        "drip-rate",
        "drip-part",
    ],  # fmt: skip
)
def test_invalid_faults_are_rejected(kwargs: dict[str, Any], needle: str) -> None:
    """An out-of-range field raises ValueError naming it."""
    with pytest.raises(ValueError, match=needle):
        Fault.from_dict(kwargs)


def test_from_dict_rejects_unknown_fields() -> None:
    """An unknown field is an error, not silently ignored."""
    with pytest.raises(ValueError, match="unknown fault fields: colour"):
        Fault.from_dict({"kind": "cut", "colour": "red"})


def test_repr_shows_the_configuration() -> None:
    """The repr names the kind and the non-default fields."""
    assert repr(Fault("status", status=429, times=1)) == (
        "Fault('status', status=429, times=1)"
    )


def test_first_matching_fault_applies_and_times_counts_down() -> None:
    """Faults are tried in order and each applies only `times` times."""
    plan = FaultPlan(
        [Fault("status", status=500, times=2), Fault("status", status=503, times=1)]
    )
    statuses = [getattr(plan.pick(CHAT), "status", None) for _ in range(4)]
    assert statuses == [500, 500, 503, None]
    assert plan.summary() == [
        {"kind": "status", "remaining": 0, "applied": 2},
        {"kind": "status", "remaining": 0, "applied": 1},
    ]


def test_stream_and_chat_only_kinds_skip_other_requests() -> None:
    """A mid-stream fault never applies to /models, so the next fault does."""
    plan = FaultPlan([Fault("cut"), Fault("no_done"), Fault("latency", delay=1)])
    picked = plan.pick(MODELS)
    assert picked is not None and picked.kind == "cut"
    plan = FaultPlan([Fault("no_done"), Fault("context_length"), Fault("drop")])
    picked = plan.pick(MODELS)
    assert picked is not None and picked.kind == "drop"


def test_match_filters_restrict_a_fault() -> None:
    """match_model, match_protocol and match_stream each narrow the requests hit."""
    plan = FaultPlan(
        [
            Fault("drop", match_model="other"),
            Fault("drop", match_protocol="openai"),
            Fault("drop", match_stream=False),
            Fault("reject_prefill"),
        ]
    )
    assert plan.pick(CHAT) is None


def test_probability_with_a_seed_is_reproducible() -> None:
    """The same seed gives the same sequence of hits; another seed differs."""

    def run(seed: int) -> list[bool]:
        plan = FaultPlan([Fault("drop", probability=0.3)], seed=seed)
        return [plan.pick(CHAT) is not None for _ in range(200)]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 30 < sum(first) < 90


def test_replace_reseeds_the_generator() -> None:
    """Replacing the plan restarts the seeded draws, so reruns are identical."""
    plan = FaultPlan([Fault("drop", probability=0.5)], seed=3)
    first = [plan.pick(CHAT) is not None for _ in range(50)]
    plan.replace([Fault("drop", probability=0.5)])
    assert [plan.pick(CHAT) is not None for _ in range(50)] == first


def test_replace_rejects_non_faults() -> None:
    """Only Fault objects are accepted in a plan."""
    with pytest.raises(TypeError, match="Fault"):
        FaultPlan([{"kind": "drop"}])  # type: ignore[list-item]
