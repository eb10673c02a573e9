"""
StackState (what every request of a client shares) and ProviderState (one
provider's breaker and limiter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._clock import SYSTEM_CLOCK
from .._observe.dispatch import Hooks, as_dispatcher
from .._types import Clock
from .breaker import CircuitBreaker
from .budget import RetryBudget
from .bulkhead import Bulkhead
from .ratelimit import RateLimiter
from .tokens import TokenLimiter

if TYPE_CHECKING:
    from .._config import ClientConfig
    from .shared.breaker import SharedBreaker
    from .shared.ratelimit import SharedRateLimit
    from .shared.store import SharedStore
    from .shared.tokens import SharedTokenLimit

__all__ = ["ProviderState", "StackState"]


class ProviderState:
    """
    One provider's shared resilience state: its circuit breaker and rate limits.

    Shared by every stack of a client for that provider; the breaker and the
    limiter guard themselves.

    Args:
        name: The provider's name.
        breaker: Its circuit breaker.
        limiter: Its rate limiter, or ``None`` when unlimited.
        shared_breaker: Its breaker state in Redis (with ``shared_state`` only).
        shared_limit: Its rate across processes (with ``shared_state`` only).
        tokens: Its ``tokens_per_minute``, or ``None`` when unlimited.
        shared_tokens: That token rate across processes (with ``shared_state``).
    """

    __slots__ = (
        "breaker",
        "limiter",
        "name",
        "shared_breaker",
        "shared_limit",
        "shared_tokens",
        "tokens",
    )

    def __init__(
        self,
        name: str,
        breaker: CircuitBreaker,
        limiter: RateLimiter | None,
        *,
        shared_breaker: SharedBreaker | None = None,
        shared_limit: SharedRateLimit | None = None,
        tokens: TokenLimiter | None = None,
        shared_tokens: SharedTokenLimit | None = None,
    ) -> None:
        self.name = name
        self.breaker = breaker
        self.limiter = limiter
        self.shared_breaker = shared_breaker
        self.shared_limit = shared_limit
        self.tokens = tokens
        self.shared_tokens = shared_tokens

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
        self.hooks = as_dispatcher(hooks)
        retry = config.retry
        self.budget = RetryBudget(
            retry.budget_ratio, retry.budget_min_retries, clock=clock
        )
        limit = config.max_concurrent_requests
        self.bulkhead: Bulkhead | None = (
            Bulkhead(limit, clock=clock) if limit is not None else None
        )
        rate = config.rate_limit.requests_per_second if config.rate_limit else None
        tpm = config.rate_limit.tokens_per_minute if config.rate_limit else None
        self.providers: dict[str, ProviderState] = {
            p.name: ProviderState(
                p.name,
                CircuitBreaker(
                    p.name, config.circuit_breaker, clock=clock, hooks=self.hooks
                ),
                RateLimiter(p.name, rate, clock=clock) if rate is not None else None,
                tokens=TokenLimiter(p.name, tpm, clock=clock)
                if tpm is not None
                else None,
            )
            for p in config.providers
        }
        self.shared: SharedStore | None = None
        if config.shared_state is not None:
            self._share(config, clock)

    def _share(self, config: ClientConfig, clock: Clock) -> None:
        # Imported here only: without shared_state, redis is never imported.
        from .shared.breaker import SharedBreaker
        from .shared.ratelimit import SharedRateLimit
        from .shared.store import SharedStore
        from .shared.tokens import SharedTokenLimit

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
            if pstate.tokens is not None:
                pstate.shared_tokens = SharedTokenLimit(
                    pstate.name, pstate.tokens.per_minute, store, clock=clock
                )

    def __repr__(self) -> str:
        return (
            f"<StackState providers={list(self.providers)}"
            f" max_concurrent_requests={self.config.max_concurrent_requests}>"
        )
