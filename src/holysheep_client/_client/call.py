"""
One call's state (`Call`, `CallRecord`), the counters every call feeds (`Counters`),
the report a finished call gives the hooks, and the health those counters make.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._config import TimeoutConfig
from .._models import ChatResponse, Health, ProviderHealth
from .._observe.details import RequestDetails
from .._observe.dispatch import CallScopes
from .._protocols import ChatRequestSpec
from .._resilience.state import StackState
from .._routing.router import WeightedRouter
from .options import CallOptions

__all__ = ["Call", "CallRecord", "Counters", "abandoned", "details", "health_of"]


@dataclass(slots=True)
class CallRecord:
    """
    Per-call state shared by every attempt (travels in ``request.extensions``).
    """

    attempts: int = 0


@dataclass(slots=True)
class Call:
    """
    One call in progress: what every hop of it shares.

    Attributes:
        spec: The request (a context fallback may change it).
        started: Its start on the client's clock.
        deadline: Its absolute deadline (``timeout.total``), or ``None``.
        plan: Its providers in order, the primary first.
        scope: The hooks' scopes of the call.
        record: Its attempt count.
        stream: Whether it streams.
        response: Its answer, once there is one.
        options: Its per-call options (a view's merged with the call's).
        timeout: Its timeouts (the client's, or the call's own).
        estimate: Its local input-token estimate, once computed.
    """

    spec: ChatRequestSpec
    started: float
    deadline: float | None
    plan: list[str]
    scope: CallScopes
    record: CallRecord
    stream: bool = False
    response: ChatResponse | None = None
    options: CallOptions = field(default_factory=CallOptions)
    timeout: TimeoutConfig = field(default_factory=TimeoutConfig)
    estimate: int | None = None


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    errors: int = 0
    cost_usd: float = 0.0


class Counters:
    """
    Requests, errors and cost per provider, and recent latencies (for a quantile
    hedging delay). Shared by every call of a client, guarded by a lock.

    Args:
        providers: The provider names.
    """

    __slots__ = ("_latencies", "_lock", "_tallies")

    def __init__(self, providers: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._tallies = {name: _Tally() for name in providers}
        self._latencies: deque[float] = deque(maxlen=512)

    def count(
        self,
        name: str,
        *,
        ok: bool,
        cost: float | None = None,
        latency: float | None = None,
    ) -> None:
        """
        Count one hop on ``name`` (``latency``: an answered call's, for hedging).
        """
        with self._lock:
            t = self._tallies[name]
            t.requests += 1
            if not ok:
                t.errors += 1
            if cost:
                t.cost_usd += cost
            if latency is not None:
                self._latencies.append(latency)

    def snapshot(self) -> dict[str, tuple[int, int, float]]:
        """
        Provider -> (requests, errors, cost in USD), read at once.
        """
        with self._lock:
            return {
                n: (t.requests, t.errors, t.cost_usd) for n, t in self._tallies.items()
            }

    def latencies(self) -> list[float]:
        """
        The recent latencies of answered calls.
        """
        with self._lock:
            return list(self._latencies)

    def __repr__(self) -> str:
        return f"<Counters providers={list(self._tallies)}>"


def abandoned(error: BaseException | None) -> bool:
    """
    True for a call cancelled, or a stream its caller closed: it has no outcome.
    """
    return isinstance(error, asyncio.CancelledError | GeneratorExit)


def details(
    call: Call,
    response: ChatResponse | None,
    error: BaseException | None,
    latency: float,
    ttft: float | None,
    kind: str | None = None,
) -> RequestDetails:
    """
    The hooks' report of a finished call.
    """
    return RequestDetails(
        operation="chat",
        requested_model=call.spec.model,
        response_model=response.model if response else None,
        provider=response.provider if response else None,
        attempts=call.record.attempts,
        latency=latency,
        input_tokens=response.usage.input_tokens if response else 0,
        output_tokens=response.usage.output_tokens if response else 0,
        cost_usd=response.cost_usd if response else None,
        error=type(error).__name__ if error is not None else None,
        stream=call.stream,
        time_to_first_token=ttft,
        finish_reason=response.stop_reason if response else None,
        cache_read_input_tokens=response.usage.cache_read_input_tokens
        if response
        else 0,
        cache_creation_input_tokens=(
            response.usage.cache_creation_input_tokens if response else 0
        ),
        provider_kind=kind,
        tags=call.options.tags,
    )


def health_of(
    state: StackState,
    router: WeightedRouter,
    counters: Counters,
    cny_per_usd: float,
    budgets: dict[str, dict[str, float]] | None = None,
) -> Health:
    """
    A client's `Health`: breakers, effective weights, counters, the migration.
    """
    weights = router.weights()
    tallies = counters.snapshot()
    providers = {}
    for name, ps in state.providers.items():
        breaker = ps.breaker.state
        if ps.shared_breaker is not None and ps.shared_breaker.seen_open:
            breaker = "open"
        requests, errors, cost = tallies[name]
        providers[name] = ProviderHealth(
            breaker=breaker,
            weight=weights.get(name, 0.0),
            rolled_back=router.rolled_back(name),
            requests=requests,
            errors=errors,
            cost_usd=cost,
            cost_cny=cost * cny_per_usd,
        )
    ready = any(p.breaker != "open" for p in providers.values())
    return Health(
        ready=ready,
        providers=providers,
        migration=router.status(),
        budgets=budgets or {},
    )
