"""
Client: the synchronous shell over `BaseClient`; it only sends and waits.

It hedges like `AsyncClient`: the racers run in worker threads, and a loser is
stopped through its `Abort` (its socket is shut down, which wakes a blocked read).
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from .._clock import SYSTEM_CLOCK
from .._config import ClientConfig
from .._content.blocks import Tool
from .._models import ChatResponse
from .._observe.hooks import ClientHook
from .._observe.log import logger
from .._protocols import ChatRequestSpec
from .._resilience.stack import build_shadow_stack, build_transport_stack
from .._routing.progress import SyncJob
from .._routing.shadow import ShadowJob
from .._transports.deadline import Abort
from .._types import Clock, SyncTransport
from ..errors import HolySheepError, NotFoundError
from .base import BaseClient, Flavor
from .call import Call
from .spec import ReasoningArg, ResponseFormatArg, ToolChoiceArg, build_spec
from .sync_race import read_body_sync, send_sync
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
    ) -> None:
        super().__init__(
            config,
            clock=clock,
            rng=rng,
            hooks=hooks,
            transports=transports,
            flavor=flavor,
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        if self._driver is not None:
            self._driver.load_blocking()

    def _stack(self, name: str, inner: SyncTransport | None) -> SyncTransport:
        return build_transport_stack(
            self._config, name, state=self._state, sync=True, flavor=self._flavor,
            clock=self._clock, rng=self._rng, hooks=self._hooks, inner=inner,
        )  # fmt: skip

    def _workers(self) -> ThreadPoolExecutor:
        """The threads hedging races (and shadow calls) run on (started on first use)."""
        with self._pool_lock:
            if self._pool is None:
                hedges = self._config.hedging.max_hedges if self._config.hedging else 1
                width = (self._config.max_concurrent_requests or 32) * (1 + hedges)
                # Shadow calls (at most max_in_flight) and one round trip to the
                # shared state never take a thread the races need.
                width += _background_width(self._config)
                self._pool = ThreadPoolExecutor(
                    max_workers=width, thread_name_prefix="holysheep-hedge"
                )
            return self._pool

    # -- the migration's background work ------------------------------------------

    def _shadow_stack_of(self, name: str, inner: SyncTransport | None) -> SyncTransport:
        stack: SyncTransport = build_shadow_stack(
            self._config, name, state=self._state, sync=True, flavor=self._flavor,
            clock=self._clock, inner=inner,
        )  # fmt: skip
        return stack

    def _launch_shadow(self, job: ShadowJob) -> None:
        try:
            self._workers().submit(self._shadow_call, job)
        except RuntimeError:  # the pool is shut down: the client is closing
            assert self._driver is not None
            self._driver.shadow_done(job, None, None)

    def _shadow_call(self, job: ShadowJob) -> None:
        driver, stack = self._driver, self._shadow_stack
        assert driver is not None and stack is not None
        try:
            response = stack.handle_request(driver.shadow_request(job))
            try:
                body = read_body_sync(response, judge=response.status_code < 300)
                answer = driver.shadow_answer(job, response, body)
            finally:
                response.close()
        except HolySheepError as exc:
            driver.shadow_done(job, None, exc)
        except Exception:
            logger.exception("shadow call to %s failed unexpectedly", job.target)
            driver.shadow_done(job, None, None)
        else:
            driver.shadow_done(job, answer, None)

    def _launch_sync(self, job: SyncJob) -> None:
        try:
            self._workers().submit(self._sync_call, job)
        except RuntimeError:
            assert self._driver is not None
            self._driver.dropped(job)

    def _sync_call(self, job: SyncJob) -> None:
        driver = self._driver
        assert driver is not None and driver.remote is not None
        driver.synced(job, driver.remote.run(driver.sync_args(job)))

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
        if not self._closed:
            self._closed = True
            if self._driver is not None:
                self._driver.closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
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
        with self._calling(spec, route_key) as call:
            walk = self._walk(call)
            hop = functools.partial(self._hop, call)
            response = send_sync(walk, self._race(call, walk), hop, self._workers)
            call.response = response
        return response

    def _hop(
        self, call: Call, name: str, spec: ChatRequestSpec, abort: Abort | None
    ) -> ChatResponse:
        request, sent = self._request(call, name, spec, abort=abort)
        response = self._stacks[name].handle_request(request)
        try:
            body = read_body_sync(response, judge=response.status_code < 300)
            return self._answer(call, name, sent, response, body)
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
        return ChatStream(
            self, spec, route_key=route_key, resume=resume, workers=self._workers
        )

    def models(self, provider: str | None = None) -> list[str]:
        """
        The model ids a provider lists; see `AsyncClient.models`.
        """
        name = self._models_provider(provider)
        request = self._get_request(name, "/models")
        response = self._stacks[name].handle_request(request)
        body = read_body_sync(response)
        return self._models(name, response, body)

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
