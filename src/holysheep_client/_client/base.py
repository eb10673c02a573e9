"""
BaseClient: everything `Client` and `AsyncClient` share, with no I/O.

As in httpx's ``_client.py``, the base does the work that does not wait: building
requests, parsing answers into responses, classifying errors, counting, the
report at the end of a call, health and weights. The two shells differ only in
how they send and wait.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .._config import ClientConfig
from .._content.schemas import OutputFormat
from .._cost import PriceTable
from .._models import ChatResponse, Health
from .._observe.dispatch import HookDispatcher
from .._observe.hooks import ClientHook
from .._observe.log import logger
from .._protocols import ChatRequestSpec, ParsedChat, WireProtocol, protocol_for
from .._resilience.state import StackState
from .._routing.failover import FailoverPlan, FailoverPolicy
from .._routing.hedging import HedgeRace, hedge_delay
from .._routing.router import WeightedRouter
from .._transports.deadline import Abort
from .._transports.extensions import (
    EXT_ABORT,
    EXT_CALL,
    EXT_DEADLINE,
    EXT_FIRST_BY,
    EXT_PROVIDER,
    EXT_RETRY_AFTER,
)
from .._transports.observed import observed
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import APIError, CapabilityError, OutputValidationError
from .call import Call, CallRecord, Counters, abandoned, details, health_of
from .migration import MigrationDriver
from .scrub import Scrubber

if TYPE_CHECKING:
    import httpx2

    from .._routing.progress import SyncJob
    from .._routing.shadow import ShadowJob

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
    ) -> None:
        if not isinstance(config, ClientConfig):
            raise TypeError("config: expected a ClientConfig")
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
        self._policy = FailoverPolicy.from_config(config)
        self._prices = PriceTable(config.pricing)
        self._counters = Counters(self._providers)
        self._scrubber = Scrubber(p.secret().get_secret_value() for p in config.providers)
        self._closed = False
        if flavor == "httpx":
            import httpx

            self._request_cls: Any = httpx.Request
        else:
            import httpx2

            self._request_cls = httpx2.Request
        self._driver: MigrationDriver | None = None
        self._shadow_stack: S | None = None
        if config.migration is not None:
            self._migration_driver(config, inners)

    def _migration_driver(self, config: ClientConfig, inners: Mapping[str, S]) -> None:
        """The migration's background work: the driver and the shadow calls' stack."""
        assert config.migration is not None
        self._driver = MigrationDriver(
            config, router=self._router, protocols=self._protocols,
            prices=self._prices, scrubber=self._scrubber, clock=self._clock,
            hooks=self._hooks, request_cls=self._request_cls, store=self._state.shared,
        )  # fmt: skip
        if config.migration.shadow is not None:
            target = config.migration.target
            self._shadow_stack = self._shadow_stack_of(target, inners.get(target))

    def _shadow_stack_of(self, name: str, inner: S | None) -> S:
        """The stack shadow calls to ``name`` go through (one attempt, no bulkhead)."""
        raise NotImplementedError

    def _stack(self, name: str, inner: S | None) -> S:
        """One provider's transport stack on the client's state (sync or async)."""
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
        self, spec: ChatRequestSpec, route_key: str | None, *, stream: bool = False
    ) -> Call:
        """
        Start a call: its deadline, its hooks' scope, and its providers.

        Raises:
            CapabilityError: No provider can take the call (nothing is sent).
        """
        self._tick()
        needs = spec.needs
        eligible = None
        if needs:
            eligible = {
                n for n, p in self._providers.items() if needs <= p.capabilities
            }
            if not eligible:
                missing = ", ".join(sorted(needs))
                raise CapabilityError(
                    f"no configured provider can take this call: it needs {missing}"
                )
        plan = self._router.plan(route_key, eligible=eligible)
        started = self._clock.monotonic()
        total = self._config.timeout.total
        scope = self._hooks.call("chat", spec.model, spec.messages, stream=stream)
        return Call(
            spec=spec,
            started=started,
            deadline=None if total is None else started + total,
            plan=plan,
            scope=scope,
            record=CallRecord(),
            stream=stream,
        )

    @contextlib.contextmanager
    def _calling(self, spec: ChatRequestSpec, route_key: str | None) -> Iterator[Call]:
        """
        A chat call from start to `_finish`: set ``call.response`` inside the block.
        """
        call = self._begin(spec, route_key)
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
        if not abandoned(error):
            self._target_outcome(call, response, latency)
            self._after_call(call, response)
            if self._hooks.hooks:
                self._hooks.request(details(call, response, error, latency, ttft))
        call.scope.finish(error, response)

    def _target_outcome(
        self, call: Call, response: ChatResponse | None, latency: float
    ) -> None:
        primary = call.plan[0] if call.plan else None
        if primary is None or not self._router.is_migration_target(primary):
            return
        ok = response is not None and response.provider == primary
        reason = self._router.record_target_outcome(
            ok,
            latency if ok else None,
            cost=response.cost_usd if ok and response is not None else None,
        )
        if reason is not None:
            logger.warning("migration rolled back: %s", reason)

    # -- the migration's background work (the shells launch it) --------------------

    def _tick(self) -> None:
        """Let the migration decide what is due; launch a round trip to Redis."""
        if self._driver is not None and not self._closed:
            job = self._driver.tick()
            if job is not None:
                self._launch_sync(job)

    def _after_call(self, call: Call, response: ChatResponse | None) -> None:
        """Launch the shadow call of a call the source answered, when sampled."""
        if self._driver is not None and not self._closed:
            job = self._driver.after_call(call, response)
            if job is not None:
                self._launch_shadow(job)

    def _launch_shadow(self, job: ShadowJob) -> None:
        """Run one shadow call off the caller's path (a task, or a worker thread)."""
        raise NotImplementedError

    def _launch_sync(self, job: SyncJob) -> None:
        """Run one round trip to the shared migration state off the caller's path."""
        raise NotImplementedError

    # -- requests ------------------------------------------------------------------

    def _request(
        self,
        call: Call,
        name: str,
        spec: ChatRequestSpec,
        *,
        abort: Abort | None = None,
    ) -> tuple[httpx2.Request, str]:
        """
        The HTTP request of one hop (this provider's model id, protocol and key).

        Returns:
            The request and the model id sent.
        """
        provider = self._providers[name]
        proto = self._protocols[name]
        model = provider.model_for(spec.model)
        sent = spec if model == spec.model else _with_model(spec, model)
        ext: dict[str, Any] = {
            EXT_DEADLINE: call.deadline,
            EXT_PROVIDER: name,
            EXT_CALL: call.record,
        }
        first_token = self._config.timeout.first_token
        if call.stream and first_token is not None:
            ext[EXT_FIRST_BY] = self._clock.monotonic() + first_token
        if abort is not None:
            ext[EXT_ABORT] = abort
        request = self._request_cls(
            "POST",
            provider.base_url + proto.chat_path(),
            headers=proto.headers(provider.secret().get_secret_value()),
            content=proto.chat_body(
                sent, cache="prompt_cache" in provider.capabilities
            ),
            extensions=ext,
        )
        return request, model

    def _get_request(self, name: str, path: str) -> httpx2.Request:
        """
        A GET to ``{base_url}{path}`` with the provider's auth headers.
        """
        provider = self._config.provider(name)
        headers = self._protocols[name].headers(provider.secret().get_secret_value())
        headers.pop("content-type", None)
        total = self._config.timeout.total
        request: httpx2.Request = self._request_cls(
            "GET",
            provider.base_url + path,
            headers=headers,
            extensions={
                EXT_DEADLINE: None
                if total is None
                else self._clock.monotonic() + total,
                EXT_PROVIDER: name,
                EXT_CALL: CallRecord(),
            },
        )
        return request

    def _models_provider(self, provider: str | None) -> str:
        name = provider or next(iter(self._providers))
        self._config.provider(name)
        return name

    # -- answers -------------------------------------------------------------------

    def _error(self, name: str, response: httpx2.Response, body: bytes) -> APIError:
        """The typed error of an error answer."""
        retry_after = response.extensions.get(EXT_RETRY_AFTER)
        error = self._protocols[name].parse_error(
            response.status_code,
            body,
            provider=name,
            request_id=_request_id(response),
            retry_after=retry_after if isinstance(retry_after, int | float) else None,
        )
        self._scrubber.error(error)
        return error

    def _answer(
        self,
        call: Call,
        name: str,
        sent_model: str,
        response: httpx2.Response,
        body: bytes,
    ) -> ChatResponse:
        """
        The `ChatResponse` of a hop's answer, priced, checked and counted.

        Raises:
            APIError: An error status, or a body that is not a chat answer.
            OutputValidationError: An answer that does not match ``response_format``
                (the provider answered, but not as asked: a provider fault).
        """
        if response.status_code >= 300:
            raise self._error(name, response, body)
        output = call.spec.output
        stream = observed(response)
        try:
            parsed = self._protocols[name].parse_chat(
                body, provider=name, request_id=_request_id(response), output=output
            )
        except APIError:
            if stream is not None:
                stream.settle(False)  # a malformed 2xx is the provider's failure
            raise
        if stream is not None:
            stream.settle(True)
        value = None if output is None else self._checked(name, output, parsed.text)
        return self._response(call, name, sent_model, parsed, value)

    def _checked(self, name: str, output: OutputFormat, text: str) -> Any:
        """The answer parsed against ``output``, or `OutputValidationError`."""
        try:
            return output.parse(text)
        except ValueError as exc:
            # The reason names a field or a JSON error; never the text itself.
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise OutputValidationError(
                f"provider {name!r} answered with output that does not match"
                f" response_format ({reason})",
                status_code=200,
                provider=name,
                raw=text,
            ) from None

    def _response(
        self,
        call: Call,
        name: str,
        sent_model: str,
        parsed: ParsedChat,
        value: Any = None,
    ) -> ChatResponse:
        latency = self._clock.monotonic() - call.started
        cost = self._prices.cost(sent_model, parsed.usage)
        self._counters.count(name, ok=True, cost=cost, latency=latency)
        return ChatResponse(
            text=parsed.text,
            model=parsed.model,
            provider=name,
            usage=parsed.usage,
            latency_ms=latency * 1000.0,
            attempts=max(call.record.attempts, 1),
            cost_usd=cost,
            request_id=parsed.request_id,
            stop_reason=parsed.stop_reason,
            content=parsed.content,
            parsed=value,
        )

    def _models(self, name: str, response: httpx2.Response, body: bytes) -> list[str]:
        if response.status_code >= 300:
            raise self._error(name, response, body)
        return self._protocols[name].parse_models(body, provider=name)

    # -- counters ------------------------------------------------------------------

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
            self._state, self._router, self._counters, self._config.cny_per_usd
        )

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """
        Override the routing weights by hand (pauses a migration, clears a rollback).

        Args:
            weights: Provider name -> weight; providers not named keep theirs.

        Raises:
            ConfigError: An unknown provider, a negative weight, or all weights 0.
        """
        self._router.set_weights(weights)


def _with_model(spec: ChatRequestSpec, model: str) -> ChatRequestSpec:
    return replace(spec, model=model)


def _request_id(response: httpx2.Response) -> str | None:
    h = response.headers
    return h.get("request-id") or h.get("x-request-id")
