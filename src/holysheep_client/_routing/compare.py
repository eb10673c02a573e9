"""
Comparators: how far a shadow answer of the target agrees with the source's, in
[0, 1]. Pure logic, no I/O.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from .._clock import SYSTEM_CLOCK
from .._content.schemas import OutputFormat
from .._models import ChatResponse
from .._types import Clock

__all__ = [
    "Scorer",
    "exact",
    "json_fields",
    "normalized_text",
    "scorer_for",
]

LOGGER = logging.getLogger("holysheep_client")

#: Seconds between two log lines about a misbehaving comparator.
LOG_EVERY = 60.0


def exact(source: ChatResponse, target: ChatResponse) -> float:
    """
    1 when the two answers' texts are equal, else 0.
    """
    return 1.0 if source.text == target.text else 0.0


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .!?;:,")


def normalized_text(source: ChatResponse, target: ChatResponse) -> float:
    """
    1 when the texts are equal after Unicode NFKC, case folding, collapsing white
    space and trimming end punctuation, else 0.
    """
    return 1.0 if _normal(source.text) == _normal(target.text) else 0.0


def _json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def json_fields(
    source: ChatResponse, target: ChatResponse, output: OutputFormat | None = None
) -> float:
    """
    The share of fields whose values are equal in both JSON answers.

    The fields are the properties of the call's ``response_format`` schema, or else
    the source's top-level keys; 0 when either answer is not JSON. Two answers that
    are JSON but not objects score 1 when equal, else 0.
    """
    ok_s, s = _json(source.text)
    ok_t, t = _json(target.text)
    if not (ok_s and ok_t):
        return 0.0
    if not (isinstance(s, dict) and isinstance(t, dict)):
        return 1.0 if s == t else 0.0
    keys: list[str] = list(s)
    props = output.schema.get("properties") if output is not None else None
    if isinstance(props, Mapping) and props:
        keys = [str(k) for k in props]
    if not keys:
        return 1.0 if s == t else 0.0
    missing = object()
    same = sum(1 for k in keys if s.get(k, missing) == t.get(k, missing))
    return same / len(keys)


_BY_NAME: dict[str, Callable[..., float]] = {
    "exact": exact,
    "normalized_text": normalized_text,
    "json_fields": json_fields,
}


class Scorer:
    """
    A comparator made safe: a raise, or a value that is not a number in [0, 1],
    scores 0 (a disagreement) and is logged at most once per `LOG_EVERY` seconds.

    Shared by every shadow call of a client; the log throttle is guarded by a lock.

    Args:
        comparator: A comparator name or a callable ``(source, target) -> float``.
        clock: The time source for the log throttle.
    """

    __slots__ = ("_clock", "_fn", "_lock", "_logged_at", "_named", "name")

    def __init__(
        self,
        comparator: str | Callable[[Any, Any], float],
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if isinstance(comparator, str):
            self._fn: Callable[..., Any] = _BY_NAME[comparator]
            self._named = comparator == "json_fields"
            self.name = comparator
        else:
            self._fn = comparator
            self._named = False
            self.name = getattr(comparator, "__qualname__", type(comparator).__name__)
        self._clock = clock
        self._lock = threading.Lock()
        self._logged_at: float | None = None

    def __call__(
        self,
        source: ChatResponse,
        target: ChatResponse,
        output: OutputFormat | None = None,
    ) -> float:
        """
        The agreement of ``target`` with ``source``, in [0, 1]; never raises.
        """
        try:
            value = (
                self._fn(source, target, output)
                if self._named
                else self._fn(source, target)
            )
        except Exception as exc:
            self._complain(f"raised {type(exc).__name__}")
            return 0.0
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0.0 <= value <= 1.0
        ):
            self._complain("returned a value that is not a number in [0, 1]")
            return 0.0
        return float(value)

    def _complain(self, what: str) -> None:
        now = self._clock.monotonic()
        with self._lock:
            if self._logged_at is not None and now - self._logged_at < LOG_EVERY:
                return
            self._logged_at = now
        LOGGER.warning(
            "shadow comparator %s %s; counted as a disagreement (logged at most once"
            " a minute)",
            self.name,
            what,
        )

    def __repr__(self) -> str:
        return f"<Scorer comparator={self.name!r}>"


def scorer_for(
    comparator: str | Callable[[Any, Any], float], *, clock: Clock = SYSTEM_CLOCK
) -> Scorer:
    """
    The `Scorer` of a `ShadowConfig.comparator`.
    """
    return Scorer(comparator, clock=clock)
