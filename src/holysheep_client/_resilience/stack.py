"""
TransportSpec, `layer_specs()` and `build_transport_stack()`: one provider's stack.

The layers, outermost first (see ``docs/resilience.md`` for why this order):

1. `DeadlineTransport`: fixes the call's deadline from ``timeout.total``.
2. `RetryTransport`: the only layer that retries, within the client's `RetryBudget`.
3. `CircuitBreakerTransport`: the provider's breaker judges every attempt.
4. `RateLimitTransport`: the provider's request rate (if configured), then
   `TokenLimitTransport`: its tokens per minute (if configured).
5. `BulkheadTransport`: the client's ``max_concurrent_requests`` (if configured).
6. `AttemptTransport`: per-attempt timeouts, error mapping, the attempt hook.
7. The pool transport (httpx2 or httpx), or ``inner``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from .._clock import SYSTEM_CLOCK
from .._observe.dispatch import HookDispatcher, Hooks, as_dispatcher
from .._transports.attempt import AttemptTransport
from .._types import AsyncTransport, Clock, SyncTransport
from .breaker import CircuitBreakerTransport
from .bulkhead import BulkheadTransport
from .deadline import DeadlineTransport
from .ratelimit import RateLimitTransport
from .retry import RetryTransport
from .state import ProviderState, StackState
from .tokens import TokenLimitTransport

if TYPE_CHECKING:
    from .._config import ClientConfig

__all__ = [
    "SHADOW_SKIPS",
    "Hooks",
    "TransportSpec",
    "build_shadow_stack",
    "build_transport_stack",
    "layer_specs",
]

#: The layers a shadow call does without: it never retries (so never spends the
#: callers' retry budget) and never takes a bulkhead slot (its cap is its own).
SHADOW_SKIPS = (RetryTransport, BulkheadTransport)


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
    if pstate.tokens is not None:
        specs.append(
            TransportSpec(
                TokenLimitTransport,
                {
                    "limiter": pstate.tokens,
                    "shared": pstate.shared_tokens,
                    "clock": clock,
                    "hooks": hooks,
                },
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
    from .shared.breaker import SharedCircuitBreakerTransport
    from .shared.ratelimit import SharedRateLimitTransport

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
    dispatcher = as_dispatcher(hooks) if hooks is not None else None
    if state is None:
        state = StackState(config, clock=clock, hooks=dispatcher)
    specs = layer_specs(config, provider, state, clock=clock, rng=rng, hooks=dispatcher)
    transport: Any = inner
    if transport is None:
        from .._transports.pool import build_pool_transport

        transport = build_pool_transport(config.pool, sync=sync, flavor=flavor)
    for spec in reversed(specs):
        transport = spec.build(transport)
    result: AsyncTransport | SyncTransport = transport
    return result


def build_shadow_stack(
    config: ClientConfig,
    provider: str,
    *,
    state: StackState,
    sync: bool,
    flavor: Literal["httpx2", "httpx"] = "httpx2",
    clock: Clock = SYSTEM_CLOCK,
    inner: AsyncTransport | SyncTransport | None = None,
) -> Any:
    """
    The stack shadow calls to a migration's target go through: one attempt each.

    The layers of `layer_specs` without `SHADOW_SKIPS`: the deadline, the target's
    breaker and rate limit (shared with the callers' stack: a shadow call is a real
    request to the target's quota), and the attempt, over a pool of its own (a slow
    target's shadow calls never hold the callers' connections). Its attempts reach no
    hook (they are not the callers'); breaker transitions do.

    Args:
        config: The client's configuration.
        provider: The migration's target.
        state: The client's shared `StackState`.
        sync: Build for ``handle_request`` (True) or ``handle_async_request``.
        flavor: The pool transport's library.
        clock: The time source.
        inner: The callers' inner transport, shared (never closed by this stack).
    """
    from .._transports.base import SharedAsyncTransport, SharedSyncTransport

    quiet = HookDispatcher()
    specs = [
        spec
        for spec in layer_specs(config, provider, state, clock=clock, hooks=quiet)
        if spec.factory not in SHADOW_SKIPS
    ]
    transport: Any
    if inner is None:
        from .._transports.pool import build_pool_transport

        transport = build_pool_transport(config.pool, sync=sync, flavor=flavor)
    elif sync:
        transport = SharedSyncTransport(inner)  # type: ignore[arg-type]
    else:
        transport = SharedAsyncTransport(inner)  # type: ignore[arg-type]
    for spec in reversed(specs):
        transport = spec.build(transport)
    return transport
