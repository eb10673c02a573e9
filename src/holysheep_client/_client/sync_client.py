"""
Client: the synchronous shell over `BaseClient`; it only sends and waits.

It hedges like `AsyncClient`: the racers run in worker threads, and a loser is
stopped through its `Abort` (its socket is shut down, which wakes a blocked read).
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
from .._transports.deadline import Abort
from .._types import Clock, SyncTransport
from ..errors import NotFoundError
from .base import BaseClient, Flavor
from .call import Call
from .spec import ReasoningArg, ResponseFormatArg, ToolChoiceArg, build_spec
from .sync_background import SyncBackground
from .sync_race import Workers, read_body_sync, send_sync
from .sync_stream import ChatStream

if TYPE_CHECKING:
    import httpx2

__all__ = ["Client"]

T = TypeVar("T")


class Client(BaseClient[SyncTransport]):
    """
    The synchronous client; same arguments and behaviour as `AsyncClient`.

    Args:
        config: The validated configuration.
        clock: Time source (tests pass `holysheep_client.testing.FakeClock`).
        rng: Randomness for weighted draws and jitter (seed it in tests).
        hooks: `ClientHook` objects that receive details as calls run.
        transports: Per-provider transports replacing the connection pool.
        flavor: ``"httpx2"`` (default) or ``"httpx"`` pool transports.
        telemetry: Spans and metrics through OpenTelemetry's global tracer and meter
            providers (near free without an SDK); ``False`` turns them off, and an
            `OpenTelemetryHook` in ``hooks`` replaces the default one.
    """

    _kind = "Client"

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        hooks: Sequence[ClientHook] = (),
        transports: Mapping[str, SyncTransport] | None = None,
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
        hedges = config.hedging.max_hedges if config.hedging else 1
        # Shadow calls (at most max_in_flight) and one round trip to the shared
        # state get threads of their own: they never take one the races need.
        width = (config.max_concurrent_requests or 32) * (1 + hedges)
        self._workers = Workers(width + _background_width(config))
        if self._driver is not None:
            self._driver.launcher = SyncBackground(
                self._driver, self._shadow_stack, self._workers
            )
            self._driver.load_blocking()

    def _stack(self, name: str, inner: SyncTransport | None) -> SyncTransport:
        return build_transport_stack(
            self._config, name, state=self._state, sync=True, flavor=self._flavor,
            clock=self._clock, rng=self._rng, hooks=self._hooks, inner=inner,
        )  # fmt: skip

    def _shadow_stack_of(self, name: str, inner: SyncTransport | None) -> SyncTransport:
        stack: SyncTransport = build_shadow_stack(
            self._config, name, state=self._state, sync=True, flavor=self._flavor,
            clock=self._clock, inner=inner,
        )  # fmt: skip
        return stack

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """
        Close every provider's connection pool.
        """
        if not self._closed and not self._view:
            self._closed = True
            if self._driver is not None:
                self._driver.closed = True
            self._workers.shutdown()
            if self._shadow_stack is not None:
                self._shadow_stack.close()
            for stack in self._stacks.values():
                stack.close()

    def chat(
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
        Send one chat call; see `AsyncClient.chat`.
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
        with self._calling(spec, route_key, options) as call:
            walk = self._walk(call)
            hop = functools.partial(self._hop, call)
            response = send_sync(walk, self._race(call, walk), hop, self._workers)
            call.response = response
        return response

    def _hop(
        self, call: Call, name: str, spec: ChatRequestSpec, abort: Abort | None
    ) -> ChatResponse:
        request, sent = self._hops.request(call, name, spec, abort=abort)
        response = self._stacks[name].handle_request(request)
        try:
            body = read_body_sync(response, judge=response.status_code < 300)
            return self._hops.answer(call, name, sent, request, response, body)
        finally:
            response.close()

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
    ) -> ChatStream:
        """
        Stream a chat answer: ``with client.stream(...) as s``; see `AsyncClient.stream`.
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
        return ChatStream(
            self, spec, route_key=route_key, resume=resume, options=options,
            workers=self._workers,
        )  # fmt: skip

    def count_tokens(
        self,
        messages: Sequence[Any],
        *,
        model: str,
        tools: Sequence[Tool | Mapping[str, Any]] | None = None,
        provider: str | None = None,
    ) -> int:
        """
        The input tokens ``messages`` (and ``tools``) would take on one provider;
        see `AsyncClient.count_tokens`.

        .. versionadded:: 0.2.0
        """
        name, spec, request = self._hops.count_plan(messages, model, tools, provider)
        if request is None:
            return self._hops.counted(name, spec, None, b"")
        response = self._stacks[name].handle_request(request)
        body = read_body_sync(response)
        return self._hops.counted(name, spec, response, body)

    def models(self, provider: str | None = None) -> list[str]:
        """
        The model ids a provider lists; see `AsyncClient.models`.
        """
        name = self._hops.models_provider(provider)
        request = self._hops.get_request(name, "/models")
        response = self._stacks[name].handle_request(request)
        body = read_body_sync(response)
        return self._hops.models(name, response, body)

    def verify(self, provider: str | None = None) -> None:
        """
        Check that providers accept their keys; see `AsyncClient.verify`.

        Raises:
            AuthenticationError: A provider rejected its key.
            HolySheepError: Any other failure to reach or use a provider.
        """
        for name in [provider] if provider else list(self._providers):
            try:
                self.models(name)
            except NotFoundError:
                continue

    def http_client(self, provider: str) -> httpx2.Client:
        """
        An ``httpx2.Client`` on this client's stack for ``provider``; see
        `AsyncClient.http_client`.
        """
        import httpx2

        from .._transports.base import SharedSyncTransport

        self._config.provider(provider)
        return httpx2.Client(
            transport=SharedSyncTransport(self._stacks[provider]),  # type: ignore[arg-type]
            timeout=None,
        )


def _background_width(config: ClientConfig) -> int:
    m = config.migration
    if m is None:
        return 0
    return (m.shadow.max_in_flight if m.shadow is not None else 0) + 1
