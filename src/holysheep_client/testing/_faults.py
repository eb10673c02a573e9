"""
Fault injection for the fake provider: `Fault` and the ordered, seeded `FaultPlan`.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, get_args

__all__ = [
    "CHAT_ONLY_KINDS",
    "STREAM_ONLY_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "MatchContext",
]

FaultKind = Literal[
    "status",
    "latency",
    "slow_first_token",
    "drop",
    "cut",
    "stall",
    "malformed_json",
    "malformed_sse",
    "no_done",
    "stream_error",
    "bad_key",
    "context_length",
    "content_policy",
    "reject_prefill",
    "drip",
]
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))

#: Kinds that only make sense for a streamed chat request.
STREAM_ONLY_KINDS: frozenset[str] = frozenset(
    {"slow_first_token", "malformed_sse", "no_done", "stream_error"}
)
#: Kinds that only apply to chat requests (never to ``/models``).
CHAT_ONLY_KINDS: frozenset[str] = STREAM_ONLY_KINDS | {
    "context_length",
    "content_policy",
    "reject_prefill",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """
    One injected failure; the same object drives the in-process fake and the server.

    Which fields matter depends on ``kind``:

    - ``status``: answer ``status`` with the protocol's error body, plus
      ``Retry-After`` (``retry_after`` seconds, or a verbatim string such as an
      HTTP-date; ``retry_after_date`` seconds from now rendered as an HTTP-date),
      ``retry-after-ms`` (``retry_after_ms``) and ``x-should-retry``
      (``should_retry``).
    - ``latency``: wait ``delay`` seconds before the response headers.
    - ``slow_first_token``: wait ``delay`` seconds before a stream's first delta.
    - ``drop``: close the connection without a response (after ``delay``).
    - ``cut``: close the connection after ``after_chunks`` deltas (a non-streamed
      body is cut in half).
    - ``stall``: stop after ``after_chunks`` deltas for ``delay`` seconds, then go on.
    - ``malformed_json``: a 200 whose JSON body is truncated.
    - ``malformed_sse``: a garbage event after ``after_chunks`` deltas, then go on.
    - ``no_done``: end the stream without its end marker (``message_stop`` or
      ``[DONE]``); with ``with_finish_reason=False``, without the stop reason too.
    - ``stream_error``: an in-stream error event after ``after_chunks`` deltas.
    - ``bad_key``: answer 401 as if the key were wrong.
    - ``context_length``, ``content_policy``: the provider's real 400 bodies.
    - ``reject_prefill``: 400 when the request ends with an assistant message.
    - ``drip``: send the response's ``drip`` part (``"headers"``, or ``"body"``:
      the JSON body or the SSE stream) at ``rate`` bytes per second, one byte at a
      time, the way a slow-loris upstream keeps every read timeout from firing.

    ``status`` and every kind except ``latency``/``slow_first_token``/``stall``
    also honour ``delay`` as a wait before the response. A fault is active for
    ``times`` matching requests (``None``: forever), fires with ``probability``
    (drawn from the plan's seeded generator), and matches only requests for
    ``match_model`` (the requested model id), ``match_protocol`` and
    ``match_stream`` when those are set.

    Args:
        kind: What goes wrong.
        status: The HTTP status of a ``status`` fault (400-599).
        retry_after: ``Retry-After`` value: seconds, or a string sent verbatim.
        retry_after_date: Seconds from now, sent as an HTTP-date ``Retry-After``.
        retry_after_ms: ``retry-after-ms`` value, in milliseconds.
        should_retry: ``x-should-retry`` value.
        message: Overrides the error message of error-answering kinds.
        delay: Seconds to wait (see above).
        after_chunks: Deltas delivered before a mid-stream fault strikes.
        with_finish_reason: For ``no_done``: keep the stop/finish reason.
        times: How many matching requests the fault applies to; ``None`` = all.
        probability: Chance that a matching request gets the fault.
        rate: For ``drip``: bytes per second.
        drip: For ``drip``: ``"headers"`` or ``"body"``.
        match_model: Only requests for this model id.
        match_protocol: Only ``"anthropic"`` or ``"openai"`` requests.
        match_stream: Only streamed (``True``) or non-streamed (``False``) requests.

    Raises:
        ValueError: If a field is out of range or ``kind`` is unknown.
    """

    kind: FaultKind
    _: KW_ONLY
    status: int | None = None
    retry_after: float | str | None = None
    retry_after_date: float | None = None
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    message: str | None = None
    delay: float = 0.0
    after_chunks: int = 1
    with_finish_reason: bool = True
    times: int | None = None
    probability: float | None = None
    rate: float = 10.0
    drip: Literal["headers", "body"] = "body"
    match_model: str | None = None
    match_protocol: Literal["anthropic", "openai"] | None = None
    match_stream: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {self.kind!r}")
        if self.kind == "status" and (
            self.status is None or not 400 <= self.status < 600
        ):
            raise ValueError(
                f"a status fault needs status in 400-599, got {self.status!r}"
            )
        if self.rate <= 0 or self.drip not in ("headers", "body"):
            raise ValueError("a drip needs rate > 0 and drip 'headers' or 'body'")
        if self.delay < 0 or self.after_chunks < 0:
            raise ValueError("delay and after_chunks must be >= 0")
        if self.times is not None and self.times < 0:
            raise ValueError(f"times must be >= 0 or None, got {self.times}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {self.probability}")
        if self.match_protocol not in (None, "anthropic", "openai"):
            raise ValueError(
                "match_protocol must be anthropic or openai,"
                f" got {self.match_protocol!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """
        The fault as JSON-ready data, listing only fields that differ from the defaults.

        Returns:
            A dict that `Fault.from_dict` turns back into an equal fault.
        """
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "kind" and value != f.default:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """
        Build a fault from `to_dict` output (the admin API's JSON shape).

        Args:
            data: A mapping with ``kind`` and any other fields.

        Returns:
            The fault.

        Raises:
            ValueError: On an unknown field or an invalid value.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        kw = {k: v for k, v in data.items() if k != "kind"}
        return cls(data["kind"], **kw)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind"
        )
        return f"Fault({self.kind!r}{', ' if parts else ''}{parts})"


@dataclass(frozen=True, slots=True)
class MatchContext:
    """
    What a fault may match on: one incoming request.
    """

    protocol: Literal["anthropic", "openai"]
    endpoint: Literal["chat", "models"]
    model: str | None
    stream: bool
    has_prefill: bool


def _applies(fault: Fault, ctx: MatchContext) -> bool:
    if fault.kind in CHAT_ONLY_KINDS and ctx.endpoint != "chat":
        return False
    if fault.kind in STREAM_ONLY_KINDS and not ctx.stream:
        return False
    if fault.kind == "reject_prefill" and not ctx.has_prefill:
        return False
    if fault.match_model is not None and fault.match_model != ctx.model:
        return False
    if fault.match_protocol is not None and fault.match_protocol != ctx.protocol:
        return False
    return fault.match_stream is None or fault.match_stream == ctx.stream


class FaultPlan:
    """
    An ordered list of faults; the first active one that matches a request applies.

    Shared by every request of a provider and guarded by a lock. ``times``
    counts down per fault; ``probability`` draws come from a ``random.Random``
    seeded with ``seed``, so the same plan and request sequence give the same
    faults.

    Args:
        faults: The faults, in priority order.
        seed: Seed of the generator used for ``probability`` draws.
    """

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._remaining: list[int | None] = []
        self._applied: list[int] = []
        self._seed = seed
        self._rng = random.Random(seed)
        self.replace(faults, seed=seed)

    def replace(self, faults: Iterable[Fault], *, seed: int | None = None) -> None:
        """
        Swap in a new list of faults and re-seed the generator.

        Args:
            faults: The new faults, in priority order.
            seed: A new seed; ``None`` keeps the plan's seed.
        """
        items = list(faults)
        for f in items:
            if not isinstance(f, Fault):
                raise TypeError(f"expected Fault objects, got {type(f).__name__}")
        with self._lock:
            if seed is not None:
                self._seed = seed
            self._rng = random.Random(self._seed)
            self._faults = items
            self._remaining = [f.times for f in items]
            self._applied = [0] * len(items)

    @property
    def faults(self) -> list[Fault]:
        """
        The configured faults, in order (spent ones included).
        """
        with self._lock:
            return list(self._faults)

    def pick(self, ctx: MatchContext) -> Fault | None:
        """
        The fault for this request, counting it down; ``None`` for a clean answer.

        Args:
            ctx: The request to match.
        """
        with self._lock:
            for i, fault in enumerate(self._faults):
                if self._remaining[i] == 0 or not _applies(fault, ctx):
                    continue
                if (
                    fault.probability is not None
                    and self._rng.random() >= fault.probability
                ):
                    continue
                left = self._remaining[i]
                if left is not None:
                    self._remaining[i] = left - 1
                self._applied[i] += 1
                return fault
        return None

    def summary(self) -> list[dict[str, Any]]:
        """
        Each fault's kind, remaining count (``None``: unlimited) and uses.
        """
        with self._lock:
            return [
                {"kind": f.kind, "remaining": r, "applied": a}
                for f, r, a in zip(
                    self._faults, self._remaining, self._applied, strict=True
                )
            ]

    def __repr__(self) -> str:
        return f"<FaultPlan faults={len(self._faults)} seed={self._seed}>"
