"""
Pure retry maths: backoff caps, full jitter, Retry-After forms, retry and breaker verdicts.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest

from holysheep_client._resilience.backoff import (
    backoff_cap,
    breaker_verdict,
    compute_backoff,
    parse_retry_after,
    should_retry_status,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
RETRY_ON = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def test_caps_double_from_initial_up_to_max() -> None:
    """The cap doubles per retry from initial_backoff and stops at max_backoff."""
    caps = [backoff_cap(n, initial=0.5, maximum=8.0) for n in range(1, 8)]
    assert caps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_cap_survives_huge_retry_numbers() -> None:
    """A huge retry number stays at the cap instead of overflowing."""
    assert backoff_cap(10_000, initial=0.5, maximum=8.0) == 8.0
    assert backoff_cap(0, initial=0.5, maximum=8.0) == 0.0


@pytest.mark.parametrize("retry", [62, 100, 10_000])
def test_cap_exponent_stops_growing_at_60(retry: int) -> None:
    """Past retry 61 the exponent stays at 60, so a tiny initial caps at initial * 2**60."""
    initial = 2.0**-70
    assert backoff_cap(retry, initial=initial, maximum=8.0) == initial * 2.0**60


def test_full_jitter_sequence_is_exact_for_a_seed() -> None:
    """A seeded RNG gives this exact full-jitter sequence."""
    rng = random.Random(42)
    waits = [
        round(compute_backoff(n, initial=0.5, maximum=8.0, jitter="full", rng=rng), 6)
        for n in range(1, 8)
    ]
    assert waits == [
        0.319713,
        0.025011,
        0.550059,
        0.892843,
        5.89177,
        5.413596,
        7.137437,
    ]


def test_full_jitter_stays_within_each_cap() -> None:
    """Every full-jitter wait lies in [0, cap]."""
    rng = random.Random(1)
    for n in range(1, 50):
        cap = backoff_cap(n, initial=0.25, maximum=3.0)
        wait = compute_backoff(n, initial=0.25, maximum=3.0, jitter="full", rng=rng)
        assert 0.0 <= wait <= cap


def test_no_jitter_waits_the_cap() -> None:
    """With jitter='none' the wait is the cap itself."""
    rng = random.Random(0)
    waits = [
        compute_backoff(n, initial=1.0, maximum=5.0, jitter="none", rng=rng)
        for n in (1, 2, 3, 4)
    ]
    assert waits == [1.0, 2.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "3"}, 3.0, id="seconds"),
        pytest.param({"retry-after": " 1.5 "}, 1.5, id="decimal-seconds"),
        pytest.param({"retry-after": "0"}, 0.0, id="zero"),
        pytest.param({"retry-after-ms": "250"}, 0.25, id="milliseconds"),
        pytest.param(
            {"retry-after-ms": "1500", "retry-after": "9"},
            1.5,
            id="ms-wins-over-seconds",
        ),
        pytest.param(
            {"retry-after-ms": "soon", "retry-after": "9"}, 9.0, id="bad-ms-falls-back"
        ),
        pytest.param(
            {"retry-after": format_datetime(NOW + timedelta(seconds=42), usegmt=True)},
            42.0,
            id="http-date-future",
        ),
        pytest.param(
            {"retry-after": format_datetime(NOW - timedelta(seconds=42), usegmt=True)},
            0.0,
            id="http-date-past",
        ),
        pytest.param(
            {"retry-after": "Thu, 01 Jan 2026 12:00:10 GMT"}, 10.0, id="imf-fixdate"
        ),
        pytest.param(
            {"retry-after": "Thursday, 01-Jan-26 12:00:05 GMT"}, 5.0, id="rfc850"
        ),
        pytest.param(
            {"retry-after": "Thu, 01 Jan 2026 12:00:10 -0000"}, 10.0, id="naive-is-gmt"
        ),
        pytest.param({"retry-after": "-1"}, None, id="negative"),
        pytest.param({"retry-after": "nan"}, None, id="nan"),
        pytest.param({"retry-after": "later"}, None, id="garbage"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    """retry-after-ms, then Retry-After as seconds or HTTP-date, else None."""
    got = parse_retry_after(httpx2.Headers(headers), NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_caller_errors_are_never_retried_even_if_the_server_insists(
    status: int,
) -> None:
    """400/401/403/404/422 are never retried, x-should-retry: true or not."""
    headers = httpx2.Headers({"x-should-retry": "true"})
    assert should_retry_status(status, headers, RETRY_ON | {status}) is False


@pytest.mark.parametrize(
    ("status", "hint", "expected"),
    [
        pytest.param(503, None, True, id="configured"),
        pytest.param(501, None, False, id="not-configured"),
        pytest.param(503, "false", False, id="server-says-no"),
        pytest.param(501, "true", True, id="server-says-yes"),
        pytest.param(409, "TRUE", True, id="case-insensitive"),
        pytest.param(503, "maybe", True, id="unknown-hint-ignored"),
        pytest.param(501, " True ", True, id="padded-mixed-case-yes"),
        pytest.param(503, " FALSE", False, id="padded-upper-case-no"),
    ],
)
def test_x_should_retry_is_obeyed(
    status: int, hint: str | None, expected: bool
) -> None:
    """x-should-retry overrides retry_on_status, both ways."""
    headers = httpx2.Headers({} if hint is None else {"x-should-retry": hint})
    assert should_retry_status(status, headers, RETRY_ON) is expected


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, True),
        (201, True),
        (400, True),
        (401, True),
        (404, True),
        (422, True),
        (429, None),
        (408, False),
        (500, False),
        (503, False),
        (529, False),
    ],
)
def test_breaker_verdicts(status: int, verdict: bool | None) -> None:
    """5xx and 408 are failures, 429 is no verdict, everything else a success."""
    assert breaker_verdict(status) is verdict
