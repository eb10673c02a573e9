"""
AsyncClient: the asyncio shell over `BaseClient`; it only sends and waits.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from .._clock import SYSTEM_CLOCK
from .._config import ClientConfig, TimeoutConfig
from .._content.blocks import Tool
from .._models import ChatResponse
from .._observe.hooks import ClientHook
from .._protocols import ChatRequestSpec
from .._resilience.stack import build_shadow_stack, build_transport_stack
from .._types import AsyncTransport, Clock
from ..errors import NotFoundError
from .async_background import AsyncBackground
from .async_race import read_body_async, send_async
from .async_stream import AsyncChatStream
from .base import BaseClient, Flavor
from .call import Call
from .spec import ReasoningArg, ResponseFormatArg, ToolChoiceArg, build_spec

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient(BaseClient[AsyncTransport]):
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
        telemetry: Spans and metrics through OpenTelemetry's global tracer and meter
            providers (near free without an SDK); ``False`` turns them off, and an
            `OpenTelemetryHook` in ``hooks`` replaces the default one.

    Example:
        ```python
        async with AsyncClient(config) as client:
            r = await client.chat(messages=[{"role": "user", "content": "hi"}],
                                  model="deepseek-v3.2")
        ```
    """

    _kind = "AsyncClient"

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        hooks: Sequence[ClientHook] = (),
        transports: Mapping[str, AsyncTransport] | None = None,
        flavor: Flavor = "httpx2",
        telemetry: bool = True,
    ) -> None:
        super().__init__(
            config,
            clock=clock,
            rng=rng,
            hooks=hooks,
            transports=transports,
            flavor=flavor,
            telemetry=telemetry,
        )
        self._background: AsyncBackground | None = None
        if self._driver is not None:
            self._background = AsyncBackground(self._driver, self._shadow_stack)
            self._driver.launcher = self._background
            self._driver.load_blocking()

    def _stack(self, name: str, inner: AsyncTransport | None) -> AsyncTransport:
        return build_transport_stack(
            self._config, name, state=self._state, sync=False, flavor=self._flavor,
            clock=self._clock, rng=self._rng, hooks=self._hooks, inner=inner,
        )  # fmt: skip

    def _shadow_stack_of(
        self, name: str, inner: AsyncTransport | None
    ) -> AsyncTransport:
        stack: AsyncTransport = build_shadow_stack(
            self._config, name, state=self._state, sync=False, flavor=self._flavor,
            clock=self._clock, inner=inner,
        )  # fmt: skip
        return stack

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
        if not self._closed and not self._view:
            self._closed = True
            if self._driver is not None:
                self._driver.closed = True
            if self._background is not None:
                await self._background.aclose()
            if self._shadow_stack is not None:
                await self._shadow_stack.aclose()
            for stack in self._stacks.values():
                await stack.aclose()

    async def chat(
        self,
        messages: Sequence[Any],
        *,
        model: str,
        max_tokens: int = 1024,
        temperature: float | None = None,
        route_key: str | None = None,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        tool_choice: ToolChoiceArg | None = None,
        response_format: ResponseFormatArg | None = None,
        stop: str | Sequence[str] | None = None,
        top_p: float | None = None,
        user: str | None = None,
        reasoning: ReasoningArg | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: float | TimeoutConfig | None = None,
        max_attempts: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        providers: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ChatResponse:
        """
        Send one chat call, with retries, failover, hedging and the deadline.

        Args:
            messages: OpenAI-style or Anthropic-style dicts, or our blocks (`ToolResult`,
                `r.to_message()`), mixed freely; system messages are hoisted for
                Anthropic.
            model: A model id or an alias that providers' ``models`` maps translate.
            max_tokens: The most tokens to generate.
            temperature: Sampling temperature, or ``None`` for the provider's default.
            route_key: A sticky key: the same key draws the same primary provider.
            tools: `Tool` objects or either protocol's tool dicts.
            tool_choice: ``"auto"``, ``"any"``, ``"none"`` or ``{"name": ...}`` (OpenAI's
                ``"required"`` and ``{"type": "function", ...}`` are taken too).
            response_format: A pydantic model class, a JSON-schema dict, or ``"json"``;
                the answer is validated into ``r.parsed``.
            stop: Stop sequences (each with a character that is not white space).
            top_p: Nucleus sampling.
            user: An end-user id for the provider's abuse monitoring.
            reasoning: ``"low"``, ``"medium"``, ``"high"`` or a token budget.
            extra: Raw JSON fields for the request body, sent as given, untranslated
                (the escape hatch: they reach whichever protocol serves the call).

        Returns:
            The answer, with usage, cost, latency and the serving provider.

        Raises:
            BadRequestError: The arguments or the request were rejected (never retried).
            CapabilityError: No configured provider can take what the call needs.
            OutputValidationError: Every try answered output not matching
                ``response_format`` (with one candidate provider).
            APITimeoutError: ``timeout.total`` expired.
            AllProvidersFailedError: Two or more providers were tried and all failed.
            HolySheepError: With one candidate provider, its own typed error.
        """
        spec = build_spec(
            messages, model=model, max_tokens=max_tokens, temperature=temperature,
            stream=False, extra=extra, tools=tools, tool_choice=tool_choice,
            response_format=response_format, stop=stop, top_p=top_p, user=user,
            reasoning=reasoning,
        )  # fmt: skip
        options = self._options(
            timeout=timeout, max_attempts=max_attempts, extra_headers=extra_headers,
            providers=providers, tags=tags,
        )  # fmt: skip
        await self._ledger.load_async(options.tags)
        with self._calling(spec, route_key, options) as call:
            walk = self._walk(call)
            hop = functools.partial(self._hop, call)
            response = await send_async(walk, self._race(call, walk), hop)
            call.response = response
        return response

    async def _hop(self, call: Call, name: str, spec: ChatRequestSpec) -> ChatResponse:
        request, sent = self._hops.request(call, name, spec)
        response = await self._stacks[name].handle_async_request(request)
        try:
            body = await read_body_async(response, judge=response.status_code < 300)
            return self._hops.answer(call, name, sent, request, response, body)
        finally:
            await response.aclose()

    def stream(
        self,
        messages: Sequence[Any],
        *,
        model: str,
        max_tokens: int = 1024,
        temperature: float | None = None,
        route_key: str | None = None,
        resume: bool = False,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        tool_choice: ToolChoiceArg | None = None,
        response_format: ResponseFormatArg | None = None,
        stop: str | Sequence[str] | None = None,
        top_p: float | None = None,
        user: str | None = None,
        reasoning: ReasoningArg | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: float | TimeoutConfig | None = None,
        max_attempts: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        providers: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> AsyncChatStream:
        """
        Stream a chat answer: ``async with client.stream(...) as s``.

        Before the first delta it retries and fails over like `chat`; after it, a
        break raises `StreamInterruptedError` (or, with ``resume=True``, continues on
        a healthy provider with the text so far as an assistant prefill).

        Raises:
            BadRequestError: The arguments are invalid.
        """
        spec = build_spec(
            messages, model=model, max_tokens=max_tokens, temperature=temperature,
            stream=True, extra=extra, tools=tools, tool_choice=tool_choice,
            response_format=response_format, stop=stop, top_p=top_p, user=user,
            reasoning=reasoning,
        )  # fmt: skip
        options = self._options(
            timeout=timeout, max_attempts=max_attempts, extra_headers=extra_headers,
            providers=providers, tags=tags,
        )  # fmt: skip
        return AsyncChatStream(
            self, spec, route_key=route_key, resume=resume, options=options
        )

    async def count_tokens(
        self,
        messages: Sequence[Any],
        *,
        model: str,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        provider: str | None = None,
    ) -> int:
        """
        The input tokens ``messages`` (and ``tools``) would take on one provider.

        On the Anthropic protocol this asks the provider
        (``POST {base_url}/messages/count_tokens``); where the provider has no such
        endpoint (404), and always on the OpenAI protocol, it is the local estimate
        the token limit reserves with (about four characters a token; see
        `docs/limits.md`). The call goes through the provider's stack (request
        limit, retries, breaker) but is not routed or failed over.

        Args:
            messages: As for `chat`.
            model: A model id or an alias the provider's ``models`` map translates.
            tools: As for `chat`; their definitions count too.
            provider: The provider's name (the first configured one by default).

        Raises:
            BadRequestError: The messages or tools are invalid.
            ConfigError: No provider has that name.
            APIError: The provider answered with another error.

        .. versionadded:: 0.2.0
        """
        name, spec, request = self._hops.count_plan(messages, model, tools, provider)
        if request is None:
            return self._hops.counted(name, spec, None, b"")
        response = await self._stacks[name].handle_async_request(request)
        body = await read_body_async(response)
        return self._hops.counted(name, spec, response, body)

    async def models(self, provider: str | None = None) -> list[str]:
        """
        The model ids a provider lists (``GET {base_url}/models``).

        Args:
            provider: The provider's name (the first configured one by default).

        Raises:
            ConfigError: No provider has that name.
            APIError: The provider answered with an error.
        """
        name = self._hops.models_provider(provider)
        request = self._hops.get_request(name, "/models")
        response = await self._stacks[name].handle_async_request(request)
        body = await read_body_async(response)
        return self._hops.models(name, response, body)

    async def verify(self, provider: str | None = None) -> None:
        """
        Check that the key of one provider (or of every provider) is accepted.

        A relay without ``/models`` (404) counts as accepted; any other error is raised.

        Raises:
            AuthenticationError: A provider rejected its key.
            HolySheepError: Any other failure to reach or use a provider.
        """
        for name in [provider] if provider else list(self._providers):
            try:
                await self.models(name)
            except NotFoundError:
                continue

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

        self._config.provider(provider)
        return httpx2.AsyncClient(
            transport=SharedAsyncTransport(self._stacks[provider]),  # type: ignore[arg-type]
            timeout=None,
        )
