"""
What the sync and async clients share: request building, answer parsing, error
classification, per-provider counters and the router. No I/O here.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._config import ClientConfig, ProviderConfig
from .._cost import PriceTable
from .._models import ChatResponse, Health, ProviderHealth, Usage
from .._observe.details import RequestDetails
from .._observe.dispatch import HookDispatcher
from .._observe.hooks import ClientHook
from .._protocols import ChatRequestSpec, ParsedChat, WireProtocol, protocol_for
from .._routing.router import WeightedRouter
from .._transports.extensions import EXT_CALL, EXT_DEADLINE, EXT_PROVIDER
from .._types import Clock
from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    import httpx2

    from .._resilience.state import StackState

__all__ = ["CallRecord", "ClientCore", "Flavor", "Verdict"]

Flavor = Literal["httpx2", "httpx"]
Verdict = Literal["failover", "raise", "context_fallback"]


@dataclass(slots=True)
class CallRecord:
    """
    Per-call state shared by every attempt (travels in ``request.extensions``).
    """

    attempts: int = 0


@dataclass(slots=True)
class _Counters:
    requests: int = 0
    errors: int = 0
    cost_usd: float = 0.0


class ClientCore:
    """
    The shared, I/O-free half of `Client` and `AsyncClient`.

    Holds the router, the resilience state (breakers, limiters, budget, bulkhead)
    and the per-provider counters; shared by every call of one client, with the
    counters guarded by a lock.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        sync: bool,
        flavor: Flavor,
        clock: Clock,
        rng: random.Random | None,
        hooks: Sequence[ClientHook],
        transports: Mapping[str, Any] | None,
    ) -> None:
        from .._resilience.stack import build_transport_stack
        from .._resilience.state import StackState

        self.config = config
        self.clock = clock
        self.flavor = flavor
        self.rng = rng or random.Random()
        self.hooks = HookDispatcher(hooks)
        self.providers = {p.name: p for p in config.providers}
        self.protocols: dict[str, WireProtocol] = {
            p.name: protocol_for(p.protocol) for p in config.providers
        }
        self.state: StackState = StackState(config, clock=clock, hooks=self.hooks)
        unknown = set(transports or {}) - set(self.providers)
        if unknown:
            raise ValueError(f"transports names unknown providers: {sorted(unknown)}")
        self.stacks: dict[str, Any] = {
            p.name: build_transport_stack(
                config,
                p.name,
                state=self.state,
                sync=sync,
                flavor=flavor,
                clock=clock,
                rng=self.rng,
                hooks=self.hooks,
                inner=(transports or {}).get(p.name),
            )
            for p in config.providers
        }
        self.router = WeightedRouter(
            {p.name: p.weight for p in config.providers},
            migration=config.migration,
            clock=clock,
            rng=self.rng,
        )
        self.prices = PriceTable(config.pricing)
        self._lock = threading.Lock()
        self._counters = {name: _Counters() for name in self.providers}
        self.latencies: deque[float] = deque(maxlen=512)
        if flavor == "httpx":
            import httpx

            self._request_cls: Any = httpx.Request
        else:
            import httpx2

            self._request_cls = httpx2.Request

    # -- building requests -------------------------------------------------------

    def deadline(self) -> float | None:
        """
        The absolute deadline of a call starting now, or ``None``.
        """
        total = self.config.timeout.total
        return None if total is None else self.clock.monotonic() + total

    def remaining(self, deadline: float | None) -> float | None:
        """
        Seconds left before ``deadline`` (never negative), or ``None``.
        """
        if deadline is None:
            return None
        return max(deadline - self.clock.monotonic(), 0.0)

    def expired(self, deadline: float | None) -> bool:
        """
        True once the call's deadline has passed.
        """
        return deadline is not None and self.clock.monotonic() >= deadline

    def timeout_error(self, provider: str | None) -> APITimeoutError:
        """
        The error for a call whose deadline expired.
        """
        return APITimeoutError(
            f"the call's total deadline of {self.config.timeout.total}s expired",
            provider=provider,
        )

    def chat_request(
        self,
        name: str,
        spec: ChatRequestSpec,
        *,
        deadline: float | None,
        record: CallRecord,
    ) -> httpx2.Request:
        """
        The HTTP request for one provider (its model id, protocol and key).
        """
        provider = self.providers[name]
        proto = self.protocols[name]
        body = proto.chat_body(spec)
        return self._request_cls(  # type: ignore[no-any-return]
            "POST",
            provider.base_url + proto.chat_path(),
            headers=proto.headers(provider.secret().get_secret_value()),
            content=body,
            extensions={EXT_DEADLINE: deadline, EXT_PROVIDER: name, EXT_CALL: record},
        )

    def get_request(
        self, name: str, path: str, *, deadline: float | None
    ) -> httpx2.Request:
        """
        A GET request to ``{base_url}{path}`` with the provider's auth headers.
        """
        provider = self.providers[name]
        headers = self.protocols[name].headers(provider.secret().get_secret_value())
        headers.pop("content-type", None)
        return self._request_cls(  # type: ignore[no-any-return]
            "GET",
            provider.base_url + path,
            headers=headers,
            extensions={
                EXT_DEADLINE: deadline,
                EXT_PROVIDER: name,
                EXT_CALL: CallRecord(),
            },
        )

    def spec_for(self, name: str, spec: ChatRequestSpec) -> ChatRequestSpec:
        """
        ``spec`` with the model alias mapped to this provider's model id.
        """
        model = self.providers[name].model_for(spec.model)
        if model == spec.model:
            return spec
        return ChatRequestSpec(
            model=model,
            messages=spec.messages,
            max_tokens=spec.max_tokens,
            temperature=spec.temperature,
            stream=spec.stream,
            extra=spec.extra,
        )

    # -- reading answers ---------------------------------------------------------

    def error_from(self, name: str, response: httpx2.Response, body: bytes) -> APIError:
        """
        The typed error for an error answer.
        """
        retry_after = response.extensions.get("holysheep.retry_after")
        return self.protocols[name].parse_error(
            response.status_code,
            body,
            provider=name,
            request_id=_request_id(response),
            retry_after=retry_after if isinstance(retry_after, int | float) else None,
        )

    def parse(self, name: str, response: httpx2.Response, body: bytes) -> ParsedChat:
        """
        Parse a 2xx chat answer.
        """
        return self.protocols[name].parse_chat(
            body, provider=name, request_id=_request_id(response)
        )

    def verdict(self, error: BaseException, requested_model: str) -> Verdict:
        """
        What a failed hop means for the call: fail over, raise, or try a larger model.
        """
        from ..errors import ContextLengthError

        if isinstance(error, ContextLengthError):
            return (
                "context_fallback"
                if requested_model in self.config.context_fallbacks
                else "raise"
            )
        if isinstance(error, BadRequestError | NotFoundError):
            return "raise"
        if isinstance(
            error,
            APIConnectionError
            | CircuitOpenError
            | AuthenticationError
            | PermissionDeniedError
            | RateLimitError
            | ServerError,
        ):
            return "failover"
        if isinstance(error, APIError) and error.status_code in set(
            self.config.retry.retry_on_status
        ):
            return "failover"
        return "raise"

    def fallback_plan(self, alias: str, plan: Sequence[str]) -> list[str]:
        """
        The providers to try a context-length fallback alias on, in ``plan`` order.
        """
        naming = [n for n in plan if alias in self.providers[n].models]
        return naming or list(plan)

    # -- results and counters ------------------------------------------------------

    def count(self, name: str, *, ok: bool, cost: float | None = None) -> None:
        """
        Count one hop on a provider.
        """
        with self._lock:
            c = self._counters[name]
            c.requests += 1
            if not ok:
                c.errors += 1
            if cost:
                c.cost_usd += cost

    def result(
        self,
        name: str,
        parsed: ParsedChat,
        *,
        sent_model: str,
        started: float,
        record: CallRecord,
    ) -> ChatResponse:
        """
        Build the `ChatResponse`, price it by the model id sent, count it.
        """
        latency = self.clock.monotonic() - started
        cost = self.prices.cost(sent_model, parsed.input_tokens, parsed.output_tokens)
        self.count(name, ok=True, cost=cost)
        with self._lock:
            self.latencies.append(latency)
        return ChatResponse(
            text=parsed.text,
            model=parsed.model,
            provider=name,
            usage=Usage(parsed.input_tokens, parsed.output_tokens),
            latency_ms=latency * 1000.0,
            attempts=max(record.attempts, 1),
            cost_usd=cost,
            request_id=parsed.request_id,
            stop_reason=parsed.stop_reason,
        )

    def report(
        self,
        *,
        operation: str,
        model: str,
        started: float,
        record: CallRecord,
        response: ChatResponse | None,
        error: BaseException | None,
        stream: bool = False,
        ttft: float | None = None,
    ) -> None:
        """
        Tell the hooks a call finished.
        """
        if not self.hooks.hooks:
            return
        self.hooks.request(
            RequestDetails(
                operation=operation,
                requested_model=model,
                response_model=response.model if response else None,
                provider=response.provider if response else None,
                attempts=record.attempts,
                latency=self.clock.monotonic() - started,
                input_tokens=response.usage.input_tokens if response else 0,
                output_tokens=response.usage.output_tokens if response else 0,
                cost_usd=response.cost_usd if response else None,
                error=type(error).__name__ if error is not None else None,
                stream=stream,
                time_to_first_token=ttft,
                finish_reason=response.stop_reason if response else None,
            )
        )

    def target_outcome(
        self, primary: str, served_by: str | None, latency: float
    ) -> None:
        """
        Feed the migration's rollback window when the primary draw was its target.
        """
        if self.router.is_migration_target(primary):
            ok = served_by == primary
            reason = self.router.record_target_outcome(ok, latency if ok else None)
            if reason is not None:
                from .._observe.log import logger

                logger.warning("migration rolled back: %s", reason)

    def final_error(self, errors: Sequence[BaseException]) -> BaseException:
        """
        One provider tried: its own error; two or more: `AllProvidersFailedError`.
        """
        from ..errors import AllProvidersFailedError

        if len(errors) == 1:
            return errors[0]
        return AllProvidersFailedError(errors)

    def health(self) -> Health:
        """
        Breakers, effective weights, rollback, counters and migration status.
        """
        weights = self.router.weights()
        providers = {}
        with self._lock:
            counters = {
                n: (c.requests, c.errors, c.cost_usd) for n, c in self._counters.items()
            }
        for name in self.providers:
            ps = self.state.providers[name]
            state = ps.breaker.state
            if ps.shared_breaker is not None and ps.shared_breaker.seen_open:
                state = "open"
            req, err, cost = counters[name]
            providers[name] = ProviderHealth(
                breaker=state,
                weight=weights.get(name, 0.0),
                rolled_back=self.router.rolled_back(name),
                requests=req,
                errors=err,
                cost_usd=cost,
                cost_cny=cost * self.config.cny_per_usd,
            )
        ready = any(p.breaker != "open" for p in providers.values())
        return Health(ready=ready, providers=providers, migration=self.router.status())

    def provider_config(self, name: str) -> ProviderConfig:
        """
        The provider called ``name``.

        Raises:
            ConfigError: There is none.
        """
        return self.config.provider(name)

    def hedge_delay(self) -> float | None:
        """
        The current hedging delay in seconds, or ``None`` when hedging is off.
        """
        hedging = self.config.hedging
        if hedging is None:
            return None
        q = hedging.quantile
        if q is None:
            assert isinstance(hedging.delay, float)
            return hedging.delay
        with self._lock:
            samples = sorted(self.latencies)
        if len(samples) < hedging.min_samples:
            return hedging.fallback_delay
        return samples[min(len(samples) - 1, int(q * len(samples)))]


def _request_id(response: httpx2.Response) -> str | None:
    h = response.headers
    return h.get("request-id") or h.get("x-request-id")
