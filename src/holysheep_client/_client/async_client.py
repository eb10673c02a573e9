"""
AsyncClient: chat, stream, models, verify, health, set_weights over the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .._clock import SYSTEM_CLOCK
from .._config import ClientConfig
from .._models import ChatResponse, Health
from .._observe.details import RouteDecision
from .._observe.hooks import ClientHook
from .._protocols import ChatRequestSpec
from .._routing.failover import FailoverPlan
from .._types import AsyncTransport, Clock
from ..errors import (
    HolySheepError,
    NotFoundError,
    map_transport_errors,
)
from .base import CallRecord, ClientCore, Flavor
from .spec import build_spec

if TYPE_CHECKING:
    import httpx2

    from .async_stream import AsyncChatStream

__all__ = ["AsyncClient"]


@contextlib.asynccontextmanager
async def _bounded(
    seconds: float | None, core: ClientCore, provider: str
) -> AsyncIterator[None]:
    """
    Bound a body read by the time left; expiry becomes `APITimeoutError`.
    """
    if seconds is None:
        yield
        return
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise core.timeout_error(provider) from None


class AsyncClient:
    """
    The asynchronous client: one resilience stack per provider under a weighted router.

    Args:
        config: The validated configuration.
        clock: Time source (tests pass `holysheep_client.testing.FakeClock`).
        rng: Randomness for weighted draws and jitter (seed it in tests).
        hooks: `ClientHook` objects that receive details as calls run.
        transports: Per-provider transports replacing the connection pool (e.g. the
            fake provider's in-process transport).
        flavor: ``"httpx2"`` (default) or ``"httpx"`` pool transports.

    Example:
        ```python
        async with AsyncClient(config) as client:
            r = await client.chat(messages=[{"role": "user", "content": "hi"}],
                                  model="deepseek-v3.2")
        ```
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        hooks: Sequence[ClientHook] = (),
        transports: Mapping[str, AsyncTransport] | None = None,
        flavor: Flavor = "httpx2",
    ) -> None:
        if not isinstance(config, ClientConfig):
            raise TypeError("config: expected a ClientConfig")
        self._core = ClientCore(
            config,
            sync=False,
            flavor=flavor,
            clock=clock,
            rng=rng,
            hooks=hooks,
            transports=transports,
        )
        self._closed = False

    def __repr__(self) -> str:
        names = ",".join(self._core.providers)
        return f"<AsyncClient providers={names} flavor={self._core.flavor}>"

    @property
    def config(self) -> ClientConfig:
        """
        The configuration this client was built from.
        """
        return self._core.config

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """
        Close every provider's connection pool.
        """
        if self._closed:
            return
        self._closed = True
        for stack in self._core.stacks.values():
            await stack.aclose()

    # -- chat ----------------------------------------------------------------------

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        max_tokens: int = 1024,
        temperature: float | None = None,
        route_key: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ChatResponse:
        """
        Send one chat call, with retries, failover, hedging and the deadline.

        Args:
            messages: OpenAI-style messages; ``system`` ones are hoisted for Anthropic.
            model: A model id or an alias that providers' ``models`` maps translate.
            max_tokens: The most tokens to generate.
            temperature: Sampling temperature, or ``None`` for the provider's default.
            route_key: A sticky key: the same key draws the same primary provider.
            extra: Extra JSON fields for the request body.

        Returns:
            The answer, with usage, cost, latency and the serving provider.

        Raises:
            BadRequestError: The arguments or the request were rejected (never retried).
            APITimeoutError: ``timeout.total`` expired.
            AllProvidersFailedError: Two or more providers were tried and all failed.
            HolySheepError: With one candidate provider, its own typed error.
        """
        core = self._core
        spec = build_spec(
            messages,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
            extra=extra,
        )
        started = core.clock.monotonic()
        deadline = core.deadline()
        record = CallRecord()
        plan = core.router.plan(route_key)
        response: ChatResponse | None = None
        error: BaseException | None = None
        scope = core.hooks.call("chat", model, spec.messages).attach()
        try:
            if core.config.hedging is not None and len(plan) > 1:
                response = await self._hedged(plan, spec, deadline, record, started)
            else:
                response = await self._sequential(plan, spec, deadline, record, started)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            if not isinstance(error, asyncio.CancelledError):
                served = response.provider if response else None
                core.target_outcome(plan[0], served, core.clock.monotonic() - started)
            core.report(
                operation="chat",
                model=model,
                started=started,
                record=record,
                response=response,
                error=error,
            )
            scope.finish(error, response)

    async def _hop(
        self,
        name: str,
        spec: ChatRequestSpec,
        deadline: float | None,
        record: CallRecord,
        started: float,
    ) -> ChatResponse:
        core = self._core
        sent = core.spec_for(name, spec)
        request = core.chat_request(name, sent, deadline=deadline, record=record)
        response = await core.stacks[name].handle_async_request(request)
        try:
            with map_transport_errors(name):
                async with _bounded(core.remaining(deadline), core, name):
                    body = await response.aread()
        finally:
            await response.aclose()
        if response.status_code >= 300:
            raise core.error_from(name, response, body)
        parsed = core.parse(name, response, body)
        return core.result(
            name, parsed, sent_model=sent.model, started=started, record=record
        )

    async def _sequential(
        self,
        plan: list[str],
        spec: ChatRequestSpec,
        deadline: float | None,
        record: CallRecord,
        started: float,
    ) -> ChatResponse:
        walk = FailoverPlan(self._core, plan, spec, deadline=deadline)
        while (name := walk.next()) is not None:
            try:
                return await self._hop(name, walk.spec, deadline, record, started)
            except HolySheepError as err:
                walk.failed(name, err)
        raise walk.final_error()

    async def _hedged(
        self,
        plan: list[str],
        spec: ChatRequestSpec,
        deadline: float | None,
        record: CallRecord,
        started: float,
    ) -> ChatResponse:
        core = self._core
        assert core.config.hedging is not None
        delay = core.hedge_delay()
        hedges_left = core.config.hedging.max_hedges
        tasks: dict[asyncio.Task[ChatResponse], str] = {}
        errors: list[BaseException] = []
        nxt = 0

        def launch(reason: str) -> None:
            nonlocal nxt
            name = plan[nxt]
            nxt += 1
            if reason != "primary":
                core.hooks.route(RouteDecision(name, nxt - 1, reason))
            task = asyncio.ensure_future(
                self._hop(name, spec, deadline, record, started)
            )
            tasks[task] = name

        launch("primary")
        try:
            while tasks:
                can_hedge = hedges_left > 0 and nxt < len(plan)
                wait = delay if can_hedge else None
                left = core.remaining(deadline)
                if left is not None:
                    wait = left if wait is None else min(wait, left)
                done, _ = await asyncio.wait(
                    tasks, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    if core.expired(deadline):
                        raise core.timeout_error(plan[0])
                    if can_hedge and core.state.budget.try_spend():
                        hedges_left -= 1
                        launch("hedge")
                    else:
                        hedges_left = 0
                    continue
                for task in done:
                    name = tasks.pop(task)
                    exc = task.exception()
                    if exc is None:
                        return task.result()
                    core.count(name, ok=False)
                    verdict = core.verdict(exc, spec.model)
                    if verdict == "context_fallback":
                        alias = core.config.context_fallbacks[spec.model]
                        return await self._sequential(
                            core.fallback_plan(alias, plan),
                            replace(spec, model=alias),
                            deadline,
                            record,
                            started,
                        )
                    if verdict == "raise":
                        raise exc
                    errors.append(exc)
                if not tasks and nxt < len(plan):
                    if core.expired(deadline):
                        raise core.timeout_error(plan[nxt])
                    launch("failover")
            raise core.final_error(errors)
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        max_tokens: int = 1024,
        temperature: float | None = None,
        route_key: str | None = None,
        resume: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncChatStream:
        """
        Stream a chat answer: ``async with client.stream(...) as s``.

        Before the first delta it retries and fails over like `chat`; after it, a
        break raises `StreamInterruptedError` (or, with ``resume=True``, continues on
        a healthy provider with the text so far as an assistant prefill).

        Raises:
            BadRequestError: The arguments are invalid.
        """
        from .async_stream import AsyncChatStream

        spec = build_spec(
            messages,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            extra=extra,
        )
        return AsyncChatStream(self._core, spec, route_key=route_key, resume=resume)

    # -- the rest --------------------------------------------------------------------

    async def models(self, provider: str | None = None) -> list[str]:
        """
        The model ids a provider lists (``GET {base_url}/models``).

        Args:
            provider: The provider's name (the first configured one by default).

        Raises:
            ConfigError: No provider has that name.
            APIError: The provider answered with an error.
        """
        core = self._core
        name = provider or next(iter(core.providers))
        core.provider_config(name)
        deadline = core.deadline()
        request = core.get_request(name, "/models", deadline=deadline)
        response = await core.stacks[name].handle_async_request(request)
        try:
            with map_transport_errors(name):
                async with _bounded(core.remaining(deadline), core, name):
                    body = await response.aread()
        finally:
            await response.aclose()
        if response.status_code >= 300:
            raise core.error_from(name, response, body)
        return core.protocols[name].parse_models(body, provider=name)

    async def verify(self, provider: str | None = None) -> None:
        """
        Check that the key of one provider (or of every provider) is accepted.

        A relay without ``/models`` (404) counts as accepted; any other error is raised.

        Raises:
            AuthenticationError: A provider rejected its key.
            HolySheepError: Any other failure to reach or use a provider.
        """
        for name in [provider] if provider else list(self._core.providers):
            try:
                await self.models(name)
            except NotFoundError:
                continue

    def health(self) -> Health:
        """
        Breaker states, effective weights, counters and the migration status.
        """
        return self._core.health()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """
        Override the routing weights by hand (pauses a migration, clears a rollback).

        Raises:
            ConfigError: An unknown provider, a negative weight, or all weights 0.
        """
        self._core.router.set_weights(weights)

    def http_client(self, provider: str) -> httpx2.AsyncClient:
        """
        An ``httpx2.AsyncClient`` on this client's stack for ``provider``.

        Retries, breaker, rate limit and bulkhead are shared with this client; it
        adds no key and no base URL. Closing it leaves this client's pool open.

        Raises:
            ConfigError: No provider has that name.
        """
        import httpx2

        from .._transports.base import SharedAsyncTransport

        self._core.provider_config(provider)
        return httpx2.AsyncClient(
            transport=SharedAsyncTransport(self._core.stacks[provider]),  # type: ignore[arg-type]
            timeout=None,
        )
