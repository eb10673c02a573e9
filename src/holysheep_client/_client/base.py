"""
BaseClient: everything `Client` and `AsyncClient` share, with no I/O.

As in httpx's ``_client.py``, the base does the work that does not wait: building
requests, parsing answers into responses, classifying errors, counting, the
report at the end of a call, health and weights. The two shells differ only in
how they send and wait.
"""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar

from .._config import ClientConfig, TimeoutConfig
from .._models import ChatResponse, Health
from .._observe.dispatch import HookDispatcher
from .._observe.hooks import ClientHook
from .._protocols import ChatRequestSpec, WireProtocol, protocol_for
from .._resilience.state import StackState
from .._routing.failover import FailoverPlan, FailoverPolicy
from .._routing.hedging import HedgeRace, hedge_delay
from .._routing.router import WeightedRouter
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import (
    CapabilityError,
)
from .budgets import BudgetLedger
from .call import Call, CallRecord, Counters, abandoned, details, health_of
from .hops import Hops
from .migration import MigrationDriver
from .options import CallOptions, call_options
from .scrub import Scrubber

if TYPE_CHECKING:
    pass

__all__ = ["BaseClient", "Flavor"]

Flavor = Literal["httpx2", "httpx"]
S = TypeVar("S", AsyncTransport, SyncTransport)


class BaseClient(Generic[S]):
    """
    The I/O-free base of `Client` and `AsyncClient`.

    Holds the router, the resilience state (breakers, limiters, budget, bulkhead),
    one transport stack per provider and the per-provider counters; all shared by
    every call of the client, the counters guarded by a lock.

    Args:
        config: The validated configuration.
        clock: Time source.
        rng: Randomness for weighted draws and jitter.
        hooks: Hooks for attempts, retries, routes, calls.
        transports: Per-provider transports replacing the connection pool.
        flavor: ``"httpx2"`` or ``"httpx"`` pool transports.
        telemetry: Instrument the client through OpenTelemetry's global providers
            (unless ``hooks`` holds an `OpenTelemetryHook` of its own).
    """

    _kind = "BaseClient"

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock,
        rng: random.Random | None,
        hooks: Sequence[ClientHook],
        transports: Mapping[str, S] | None,
        flavor: Flavor,
        telemetry: bool = True,
    ) -> None:
        if not isinstance(config, ClientConfig):
            raise TypeError("config: expected a ClientConfig")
        hooks = _with_telemetry(hooks, telemetry)
        self._config = config
        self._clock = clock
        self._flavor: Flavor = flavor
        self._rng = rng or random.Random()
        self._hooks = HookDispatcher(hooks)
        self._providers = {p.name: p for p in config.providers}
        self._protocols: dict[str, WireProtocol] = {
            p.name: protocol_for(p.protocol) for p in config.providers
        }
        unknown = set(transports or {}) - set(self._providers)
        if unknown:
            raise ValueError(f"transports names unknown providers: {sorted(unknown)}")
        self._state = StackState(config, clock=clock, hooks=self._hooks)
        inners: Mapping[str, S] = transports or {}
        self._stacks: dict[str, S] = {
            name: self._stack(name, inners.get(name)) for name in self._providers
        }
        self._router = WeightedRouter(
            {p.name: p.weight for p in config.providers},
            migration=config.migration,
            clock=clock,
            rng=self._rng,
            shared=config.shared_state is not None,
        )
        if flavor == "httpx":
            import httpx

            self._request_cls: Any = httpx.Request
        else:
            import httpx2

            self._request_cls = httpx2.Request
        self._policy = FailoverPolicy.from_config(config)
        self._counters = Counters(self._providers)
        self._scrubber = Scrubber(
            p.secret().get_secret_value() for p in config.providers
        )
        self._hops = Hops(
            config,
            protocols=self._protocols,
            state=self._state,
            policy=self._policy,
            clock=clock,
            counters=self._counters,
            scrubber=self._scrubber,
            request_cls=self._request_cls,
        )
        self._ledger = BudgetLedger(
            config.budgets, clock=clock, shared=_shared_spend(self._state, clock)
        )
        self._closed = False
        self._view = False
        self._defaults = CallOptions()
        self._driver: MigrationDriver | None = None
        self._shadow_stack: S | None = None
        if config.migration is not None:  # its work beside the calls
            self._driver = MigrationDriver(
                config, router=self._router, protocols=self._protocols,
                prices=self._hops.prices, scrubber=self._scrubber, clock=clock,
                hooks=self._hooks, request_cls=self._request_cls, state=self._state,
            )  # fmt: skip
            if (target := self._driver.shadow_target) is not None:
                self._shadow_stack = self._shadow_stack_of(target, inners.get(target))

    def _stack(self, name: str, inner: S | None) -> S:
        """One provider's transport stack on the client's state (sync or async)."""
        raise NotImplementedError

    def _shadow_stack_of(self, name: str, inner: S | None) -> S:
        """The stack shadow calls to ``name`` go through (one attempt, no bulkhead)."""
        raise NotImplementedError

    @property
    def config(self) -> ClientConfig:
        """
        The configuration this client was built from.
        """
        return self._config

    def __repr__(self) -> str:
        names = ",".join(self._providers)
        return f"<{self._kind} providers={names} flavor={self._flavor}>"

    # -- starting and ending a call ------------------------------------------------

    def _begin(
        self,
        spec: ChatRequestSpec,
        route_key: str | None,
        options: CallOptions,
        *,
        stream: bool = False,
    ) -> Call:
        """
        Start a call: its timeouts and deadline, its hooks' scope, its providers.

        Raises:
            CapabilityError: No provider can take the call (nothing is sent).
        """
        if self._driver is not None:
            self._driver.begin()
        needs = spec.needs
        refused = {n: r for n, w in self._protocols.items() if (r := w.refusal(spec))}
        eligible: set[str] | None = None
        if needs or refused:
            eligible = {
                n
                for n, p in self._providers.items()
                if needs <= p.capabilities and n not in refused
            }
        if options.providers is not None:
            eligible = set(options.providers) & (
                eligible if eligible is not None else set(options.providers)
            )
        if eligible is not None and not eligible:
            why = [f"it needs {', '.join(sorted(needs))}"] if needs else []
            why += sorted(set(refused.values()))
            raise CapabilityError(
                "no candidate provider can take this call: "
                + ("; ".join(why) or "providers= names none that can")
            )
        self._ledger.check(options.tags)
        plan = self._router.plan(route_key, eligible=eligible)
        timeout = options.timeout or self._config.timeout
        started = self._clock.monotonic()
        scope = self._hooks.call("chat", spec.model, spec.messages, stream=stream)
        return Call(
            spec=spec,
            started=started,
            deadline=None if timeout.total is None else started + timeout.total,
            plan=plan,
            scope=scope,
            record=CallRecord(),
            stream=stream,
            options=options,
            timeout=timeout,
        )

    def _options(self, **given: Any) -> CallOptions:
        """This client's (or view's) options with one call's over them."""
        base = self._defaults.timeout or self._config.timeout
        call = call_options(base=base, providers_known=list(self._providers), **given)
        return self._defaults.merged(call)

    @contextlib.contextmanager
    def _calling(
        self, spec: ChatRequestSpec, route_key: str | None, options: CallOptions
    ) -> Iterator[Call]:
        """
        A chat call from start to `_finish`: set ``call.response`` inside the block.
        """
        call = self._begin(spec, route_key, options)
        call.scope.attach()
        try:
            yield call
        except BaseException as exc:
            self._finish(call, None, exc)
            raise
        self._finish(call, call.response, None)

    def _walk(self, call: Call) -> FailoverPlan:
        return FailoverPlan(
            call.plan,
            call.spec,
            deadline=call.deadline,
            policy=self._policy,
            clock=self._clock,
            hooks=self._hooks,
            on_failure=self._failed_hop,
            max_attempts=call.options.max_attempts,
        )

    def _race(self, call: Call, walk: FailoverPlan) -> HedgeRace | None:
        """The hedging race of a call, or ``None`` when it is not hedged."""
        hedging = self._config.hedging
        if hedging is None or len(call.plan) < 2:
            return None
        delay = hedge_delay(hedging, self._counters.latencies())
        assert delay is not None
        return HedgeRace(
            walk,
            delay=delay,
            max_hedges=hedging.max_hedges,
            budget=self._state.budget,
            clock=self._clock,
            deadline=call.deadline,
        )

    def _finish(
        self,
        call: Call,
        response: ChatResponse | None,
        error: BaseException | None,
        *,
        ttft: float | None = None,
    ) -> None:
        """
        The end of a call: the migration's outcome, the hooks' report, the scope.

        A cancelled call (or a stream the caller closed) reports no outcome.
        """
        latency = self._clock.monotonic() - call.started
        if error is not None:
            self._scrubber.error(error)
        elif response is not None:
            self._ledger.spend(call.options.tags, response.cost_usd)
        if not abandoned(error):
            if self._driver is not None:
                self._driver.finish(call, response, latency)
            if self._hooks.hooks:
                kind = self._protocols[response.provider].name if response else None
                self._hooks.request(details(call, response, error, latency, ttft, kind))
        call.scope.finish(error, response)

    # -- requests ------------------------------------------------------------------

    def _failed_hop(self, name: str) -> None:
        self._counters.count(name, ok=False)

    # -- the rest ------------------------------------------------------------------

    def health(self) -> Health:
        """
        Breaker states, effective weights, counters and the migration status.

        Returns:
            ``ready`` is true while at least one provider's breaker is not open.
        """
        if self._driver is not None:
            self._driver.tick(sync=False)
        return health_of(
            self._state,
            self._router,
            self._counters,
            self._config.cny_per_usd,
            self._ledger.snapshot(),
        )

    def with_options(
        self,
        *,
        timeout: float | TimeoutConfig | None = None,
        max_attempts: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        providers: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Self:
        """
        A view of this client whose calls take these options by default.

        The view shares every piece of state with this client: breakers, limiters,
        budgets, the router, the pools and the counters; closing it closes nothing.
        Options given to a call override the view's (headers and tags merge).

        Args:
            timeout: Seconds for each whole call, or a `TimeoutConfig`.
            max_attempts: Attempts per provider.
            extra_headers: Sent to every provider (e.g. ``anthropic-beta``); never
                logged; the auth headers cannot be overridden.
            providers: Only these providers are candidates, in the router's order.
            tags: Labels for hooks, spans and budgets.

        Raises:
            BadRequestError: An option is invalid.

        .. versionadded:: 0.2.0
        """
        view = copy.copy(self)
        view._defaults = self._options(
            timeout=timeout, max_attempts=max_attempts, extra_headers=extra_headers,
            providers=providers, tags=tags,
        )  # fmt: skip
        view._view = True
        return view

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """
        Override the routing weights by hand (pauses a migration, clears a rollback).

        Args:
            weights: Provider name -> weight; providers not named keep theirs.

        Raises:
            ConfigError: An unknown provider, a negative weight, or all weights 0.
        """
        self._router.set_weights(weights)


def _shared_spend(state: StackState, clock: Clock) -> Any:
    if state.shared is None:
        return None
    from .._resilience.shared.spend import SharedSpend

    return SharedSpend(state.shared, clock=clock)


def _with_telemetry(hooks: Sequence[ClientHook], telemetry: bool) -> list[ClientHook]:
    """``hooks``, with the default OpenTelemetry hook unless off or already there."""
    out = list(hooks)
    if not telemetry:
        return out
    from ..otel import OpenTelemetryHook

    if not any(isinstance(h, OpenTelemetryHook) for h in out):
        out.append(OpenTelemetryHook())
    return out
