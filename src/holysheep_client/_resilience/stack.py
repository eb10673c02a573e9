"""
StackState (what every request of a client shares) and `build_transport_stack()`.

The layers, outermost first (see ``docs/resilience.md`` for why this order):

1. `DeadlineTransport`: fixes the call's deadline from ``timeout.total``.
2. `RetryTransport`: the only layer that retries, within the client's `RetryBudget`.
3. `CircuitBreakerTransport`: the provider's breaker judges every attempt.
4. `RateLimitTransport`: the provider's request rate (if configured).
5. `BulkheadTransport`: the client's ``max_concurrent_requests`` (if configured).
6. `AttemptTransport`: per-attempt timeouts, error mapping, the attempt hook.
7. The pool transport (httpx2 or httpx), or ``inner``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from .._clock import SYSTEM_CLOCK
from .._hooks import ClientHook, HookDispatcher
from .._types import AsyncTransport, Clock, SyncTransport
from .attempt import AttemptTransport
from .breaker import CircuitBreaker, CircuitBreakerTransport
from .budget import RetryBudget
from .bulkhead import Bulkhead, BulkheadTransport
from .deadline import DeadlineTransport
from .ratelimit import RateLimiter, RateLimitTransport
from .retry import RetryTransport

if TYPE_CHECKING:
    from .._config import ClientConfig
    from .shared_breaker import SharedBreaker
    from .shared_ratelimit import SharedRateLimit
    from .shared_store import SharedStore

__all__ = [
    "ProviderState",
    "StackState",
    "TransportSpec",
    "build_transport_stack",
    "layer_specs",
]

Hooks = HookDispatcher | Iterable[ClientHook] | None


def _dispatcher(hooks: Hooks) -> HookDispatcher:
    if isinstance(hooks, HookDispatcher):
        return hooks
    return HookDispatcher(hooks or ())


class ProviderState:
    """
    One provider's shared resilience state: its circuit breaker and rate limiter.

    Shared by every stack of a client for that provider; the breaker and the
    limiter guard themselves.

    Args:
        name: The provider's name.
        breaker: Its circuit breaker.
        limiter: Its rate limiter, or ``None`` when unlimited.
        shared_breaker: Its breaker state in Redis (with ``shared_state`` only).
        shared_limit: Its rate across processes (with ``shared_state`` only).
    """

    __slots__ = ("breaker", "limiter", "name", "shared_breaker", "shared_limit")

    def __init__(
        self,
        name: str,
        breaker: CircuitBreaker,
        limiter: RateLimiter | None,
        *,
        shared_breaker: SharedBreaker | None = None,
        shared_limit: SharedRateLimit | None = None,
    ) -> None:
        self.name = name
        self.breaker = breaker
        self.limiter = limiter
        self.shared_breaker = shared_breaker
        self.shared_limit = shared_limit

    def report_stream_failure(self) -> None:
        """
        Count a failure the client found in a body after the headers (a stall,
        a malformed event, a missing end marker) as one of the breaker's failures.

        Errors raised by the response stream itself (`APIConnectionError`,
        `APITimeoutError`) are already counted: do not report those again.
        """
        if self.shared_breaker is not None:
            self.shared_breaker.record(None, False)
        else:
            self.breaker.report_failure()

    def report_stream_success(self) -> None:
        """
        Count a stream that ended well as a success of the provider.
        """
        if self.shared_breaker is not None:
            self.shared_breaker.record(None, True)
        else:
            self.breaker.report_success()

    def __repr__(self) -> str:
        return f"<ProviderState name={self.name!r} breaker={self.breaker.state}>"


class StackState:
    """
    Resilience state shared by every stack and every request of one client.

    Holds one `ProviderState` per provider, the client-wide `RetryBudget` (the
    router charges hedges to it too) and the client-wide `Bulkhead`. Each of
    those guards itself with a lock; this object only holds them.

    Args:
        config: The client's configuration.
        clock: The time source for breakers, limiters, budget and bulkhead.
        hooks: Receives breaker transitions (a `HookDispatcher` or hooks).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        hooks: Hooks = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.hooks = _dispatcher(hooks)
        retry = config.retry
        self.budget = RetryBudget(
            retry.budget_ratio, retry.budget_min_retries, clock=clock
        )
        limit = config.max_concurrent_requests
        self.bulkhead: Bulkhead | None = (
            Bulkhead(limit, clock=clock) if limit is not None else None
        )
        rate = config.rate_limit.requests_per_second if config.rate_limit else None
        self.providers: dict[str, ProviderState] = {
            p.name: ProviderState(
                p.name,
                CircuitBreaker(
                    p.name, config.circuit_breaker, clock=clock, hooks=self.hooks
                ),
                RateLimiter(p.name, rate, clock=clock) if rate is not None else None,
            )
            for p in config.providers
        }
        self.shared: SharedStore | None = None
        if config.shared_state is not None:
            self._share(config, clock)

    def _share(self, config: ClientConfig, clock: Clock) -> None:
        # Imported here only: without shared_state, redis is never imported.
        from .shared_breaker import SharedBreaker
        from .shared_ratelimit import SharedRateLimit
        from .shared_store import SharedStore

        assert config.shared_state is not None
        store = self.shared = SharedStore(config.shared_state, clock=clock)
        for pstate in self.providers.values():
            pstate.shared_breaker = SharedBreaker(
                pstate.breaker, config.circuit_breaker, store, clock=clock
            )
            if pstate.limiter is not None:
                pstate.shared_limit = SharedRateLimit(
                    pstate.name, pstate.limiter.rate, store, clock=clock
                )

    def __repr__(self) -> str:
        return (
            f"<StackState providers={list(self.providers)}"
            f" max_concurrent_requests={self.config.max_concurrent_requests}>"
        )


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """
    One layer to build: ``factory(inner, **options)``.
    """

    factory: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)

    def build(self, inner: Any) -> Any:
        """
        Wrap ``inner`` in this layer.
        """
        return self.factory(inner, **self.options)


def layer_specs(
    config: ClientConfig,
    provider: str,
    state: StackState,
    *,
    clock: Clock = SYSTEM_CLOCK,
    rng: random.Random | None = None,
    hooks: HookDispatcher | None = None,
) -> list[TransportSpec]:
    """
    The resilience layers for ``provider``, outermost first.

    Raises:
        ConfigError: No provider has that name.
    """
    config.provider(provider)
    hooks = hooks or state.hooks
    pstate = state.providers[provider]
    specs = [
        TransportSpec(
            DeadlineTransport,
            {"provider": provider, "total": config.timeout.total, "clock": clock},
        ),
        TransportSpec(
            RetryTransport,
            {
                "provider": provider,
                "config": config.retry,
                "budget": state.budget,
                "clock": clock,
                "rng": rng,
                "hooks": hooks,
                "breaker": pstate.breaker,
            },
        ),
        TransportSpec(CircuitBreakerTransport, {"breaker": pstate.breaker}),
    ]
    if pstate.limiter is not None:
        specs.append(
            TransportSpec(
                RateLimitTransport, {"limiter": pstate.limiter, "hooks": hooks}
            )
        )
    if state.shared is not None:
        _share_specs(specs, pstate, clock)
    if state.bulkhead is not None:
        specs.append(
            TransportSpec(
                BulkheadTransport,
                {"bulkhead": state.bulkhead, "provider": provider, "hooks": hooks},
            )
        )
    specs.append(
        TransportSpec(
            AttemptTransport,
            {
                "provider": provider,
                "timeout": config.timeout,
                "clock": clock,
                "hooks": hooks,
            },
        )
    )
    return specs


def _share_specs(
    specs: list[TransportSpec], pstate: ProviderState, clock: Clock
) -> None:
    """Swap the breaker and rate-limit layers for their shared-state variants."""
    from .shared_breaker import SharedCircuitBreakerTransport
    from .shared_ratelimit import SharedRateLimitTransport

    for i, spec in enumerate(specs):
        if spec.factory is CircuitBreakerTransport:
            specs[i] = TransportSpec(
                SharedCircuitBreakerTransport,
                {**spec.options, "shared": pstate.shared_breaker},
            )
        elif spec.factory is RateLimitTransport and pstate.shared_limit is not None:
            specs[i] = TransportSpec(
                SharedRateLimitTransport,
                {**spec.options, "shared": pstate.shared_limit, "clock": clock},
            )


@overload
def build_transport_stack(
    config: ClientConfig,
    provider: str,
    *,
    state: StackState | None = ...,
    sync: Literal[False] = ...,
    flavor: Literal["httpx2", "httpx"] = ...,
    clock: Clock = ...,
    rng: random.Random | None = ...,
    hooks: Hooks = ...,
    inner: AsyncTransport | None = ...,
) -> AsyncTransport: ...


@overload
def build_transport_stack(
    config: ClientConfig,
    provider: str,
    *,
    state: StackState | None = ...,
    sync: Literal[True],
    flavor: Literal["httpx2", "httpx"] = ...,
    clock: Clock = ...,
    rng: random.Random | None = ...,
    hooks: Hooks = ...,
    inner: SyncTransport | None = ...,
) -> SyncTransport: ...


@overload
def build_transport_stack(
    config: ClientConfig,
    provider: str,
    *,
    state: StackState | None = ...,
    sync: bool,
    flavor: Literal["httpx2", "httpx"] = ...,
    clock: Clock = ...,
    rng: random.Random | None = ...,
    hooks: Hooks = ...,
    inner: AsyncTransport | SyncTransport | None = ...,
) -> AsyncTransport | SyncTransport: ...


def build_transport_stack(
    config: ClientConfig,
    provider: str,
    *,
    state: StackState | None = None,
    sync: bool = False,
    flavor: Literal["httpx2", "httpx"] = "httpx2",
    clock: Clock = SYSTEM_CLOCK,
    rng: random.Random | None = None,
    hooks: Hooks = None,
    inner: AsyncTransport | SyncTransport | None = None,
) -> AsyncTransport | SyncTransport:
    """
    Build ``provider``'s transport stack: the resilience layers over a pool transport.

    Args:
        config: The client's configuration.
        provider: The provider's name.
        state: The client's shared `StackState`; a fresh one when ``None``.
        sync: Build for ``handle_request`` (True) or ``handle_async_request``.
        flavor: The pool transport's library, ``"httpx2"`` or ``"httpx"``.
        clock: The time source and sleeper.
        rng: Randomness for backoff jitter.
        hooks: A `HookDispatcher` or hooks for attempts, retries and waits
            (breaker transitions go to the state's hooks).
        inner: Replaces the pool transport (a `MockTransport`, the fake provider).

    Returns:
        The outermost layer; ``aclose()`` / ``close()`` closes the pool too.

    Raises:
        ConfigError: No provider has that name.
    """
    dispatcher = _dispatcher(hooks) if hooks is not None else None
    if state is None:
        state = StackState(config, clock=clock, hooks=dispatcher)
    specs = layer_specs(config, provider, state, clock=clock, rng=rng, hooks=dispatcher)
    transport: Any = inner
    if transport is None:
        from .._transports import build_pool_transport

        transport = build_pool_transport(config.pool, sync=sync, flavor=flavor)
    for spec in reversed(specs):
        transport = spec.build(transport)
    result: AsyncTransport | SyncTransport = transport
    return result
