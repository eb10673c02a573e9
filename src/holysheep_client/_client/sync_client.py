"""
Client: the synchronous twin of `AsyncClient`, on the same shared logic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .._clock import SYSTEM_CLOCK
from .._config import ClientConfig
from .._models import ChatResponse, Health, Usage
from .._observe.hooks import ClientHook
from .._protocols import ChatRequestSpec
from .._routing.failover import FailoverPlan
from .._transports.extensions import EXT_READ_TIMEOUT
from .._types import Clock, SyncTransport
from ..errors import (
    APIConnectionError,
    HolySheepError,
    NotFoundError,
    StreamInterruptedError,
    map_transport_errors,
)
from .base import CallRecord, ClientCore, Flavor
from .spec import build_spec

if TYPE_CHECKING:
    import httpx2

__all__ = ["ChatStream", "Client"]


class Client:
    """
    The synchronous client; same arguments and behaviour as `AsyncClient`.

    Hedging needs concurrency and is only done by `AsyncClient`; a sync client
    with ``hedging`` configured fails over without hedging. A sync stream's
    ``first_token`` / ``stream_idle`` bounds are enforced as read timeouts.
    """

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
        if not isinstance(config, ClientConfig):
            raise TypeError("config: expected a ClientConfig")
        self._core = ClientCore(
            config,
            sync=True,
            flavor=flavor,
            clock=clock,
            rng=rng,
            hooks=hooks,
            transports=transports,
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"<Client providers={','.join(self._core.providers)} flavor={self._core.flavor}>"

    @property
    def config(self) -> ClientConfig:
        """
        The configuration this client was built from.
        """
        return self._core.config

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
            for stack in self._core.stacks.values():
                stack.close()

    def _read(
        self, name: str, request: httpx2.Request
    ) -> tuple[httpx2.Response, bytes]:
        response = self._core.stacks[name].handle_request(request)
        try:
            with map_transport_errors(name):
                body = response.read()
        finally:
            response.close()
        return response, body

    def chat(
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
        Send one chat call; see `AsyncClient.chat`.
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
        started, deadline, record = (
            core.clock.monotonic(),
            core.deadline(),
            CallRecord(),
        )
        plan = core.router.plan(route_key)
        response: ChatResponse | None = None
        error: BaseException | None = None
        scope = core.hooks.call("chat", model, spec.messages).attach()

        def hop(name: str, spec: ChatRequestSpec) -> ChatResponse:
            sent = core.spec_for(name, spec)
            request = core.chat_request(name, sent, deadline=deadline, record=record)
            http_response, body = self._read(name, request)
            if http_response.status_code >= 300:
                raise core.error_from(name, http_response, body)
            parsed = core.parse(name, http_response, body)
            return core.result(
                name, parsed, sent_model=sent.model, started=started, record=record
            )

        try:
            response = _failover(core, plan, spec, deadline, record, hop)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
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
    ) -> ChatStream:
        """
        Stream a chat answer: ``with client.stream(...) as s``; see `AsyncClient.stream`.
        """
        spec = build_spec(
            messages,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            extra=extra,
        )
        return ChatStream(self._core, spec, route_key=route_key, resume=resume)

    def models(self, provider: str | None = None) -> list[str]:
        """
        The model ids a provider lists; see `AsyncClient.models`.
        """
        core = self._core
        name = provider or next(iter(core.providers))
        core.provider_config(name)
        request = core.get_request(name, "/models", deadline=core.deadline())
        response, body = self._read(name, request)
        if response.status_code >= 300:
            raise core.error_from(name, response, body)
        return core.protocols[name].parse_models(body, provider=name)

    def verify(self, provider: str | None = None) -> None:
        """
        Check that providers accept their keys; see `AsyncClient.verify`.

        Raises:
            AuthenticationError: A provider rejected its key.
            HolySheepError: Any other failure to reach or use a provider.
        """
        for name in [provider] if provider else list(self._core.providers):
            try:
                self.models(name)
            except NotFoundError:
                continue

    def health(self) -> Health:
        """
        Breaker states, effective weights, counters and the migration status.
        """
        return self._core.health()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """
        Override the routing weights by hand; see `AsyncClient.set_weights`.
        """
        self._core.router.set_weights(weights)

    def http_client(self, provider: str) -> httpx2.Client:
        """
        An ``httpx2.Client`` on this client's stack for ``provider``.
        """
        import httpx2

        from .._transports.base import SharedSyncTransport

        self._core.provider_config(provider)
        return httpx2.Client(
            transport=SharedSyncTransport(self._core.stacks[provider]),  # type: ignore[arg-type]
            timeout=None,
        )


def _failover(
    core: ClientCore,
    plan: list[str],
    spec: ChatRequestSpec,
    deadline: float | None,
    record: CallRecord,
    hop: Any,
) -> Any:
    """
    Try ``hop(name, spec)`` on the plan's providers in order; the sync failover loop.
    """
    walk = FailoverPlan(core, plan, spec, deadline=deadline)
    while (name := walk.next()) is not None:
        try:
            return hop(name, walk.spec)
        except HolySheepError as err:
            walk.failed(name, err)
    raise walk.final_error()


class ChatStream:
    """
    A streamed chat answer for `Client`; use as ``with client.stream(...) as s``.

    Fails over before the first delta; a break after it raises
    `StreamInterruptedError` with the text so far. ``resume=True`` is accepted for
    symmetry but only `AsyncChatStream` resumes on another provider. The
    ``first_token`` and ``stream_idle`` bounds are enforced as the read timeout of
    the stream's attempts (the smaller of the two bounds every read).
    """

    def __init__(
        self,
        core: ClientCore,
        spec: ChatRequestSpec,
        *,
        route_key: str | None,
        resume: bool,
    ) -> None:
        self._core = core
        self._spec = spec
        self._route_key = route_key
        self._resume = resume
        self._final: ChatResponse | None = None
        self._gen: Iterator[str] | None = None
        self._response: httpx2.Response | None = None

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
        Stop the stream and release its connection.
        """
        if self._gen is not None:
            self._gen.close()  # type: ignore[attr-defined]
        if self._response is not None:
            self._response.close()

    @property
    def text_stream(self) -> Iterator[str]:
        """
        The text deltas, as they arrive (a single-use iterator).
        """
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def get_final_response(self) -> ChatResponse:
        """
        Read the stream to its end and return the whole answer.
        """
        for _ in self.text_stream:
            pass
        assert self._final is not None
        return self._final

    def _run(self) -> Iterator[str]:
        core, spec = self._core, self._spec
        started, deadline, record = (
            core.clock.monotonic(),
            core.deadline(),
            CallRecord(),
        )
        plan = core.router.plan(self._route_key)
        delivered: list[str] = []
        error: BaseException | None = None
        served: str | None = None
        # Without a timer per read, both stream bounds become the read timeout.
        bounds = [core.config.timeout.first_token, core.config.timeout.stream_idle]
        read_cap = min((b for b in bounds if b is not None), default=None)
        scope = core.hooks.call("chat", spec.model, spec.messages, stream=True)

        def open_stream(name: str, spec: ChatRequestSpec) -> Any:
            sent = core.spec_for(name, spec)
            request = core.chat_request(name, sent, deadline=deadline, record=record)
            if read_cap is not None:
                request.extensions[EXT_READ_TIMEOUT] = read_cap
            response = core.stacks[name].handle_request(request)
            if response.status_code >= 300:
                try:
                    with map_transport_errors(name):
                        body = response.read()
                finally:
                    response.close()
                raise core.error_from(name, response, body)
            self._response = response
            decoder = core.protocols[name].stream_decoder(provider=name)
            chunks = response.iter_raw()
            first: list[str] = []
            try:
                with map_transport_errors(name):
                    for chunk in chunks:
                        first = decoder.feed(chunk)
                        if first or decoder.ended:
                            break
            except BaseException:
                response.close()
                raise
            return name, sent.model, decoder, chunks, first

        try:
            with scope.active():
                name, sent_model, decoder, chunks, first = _failover(
                    core, plan, spec, deadline, record, open_stream
                )
            served = name
            try:
                for delta in first:
                    delivered.append(delta)
                    yield delta
                with map_transport_errors(name):
                    while not decoder.ended:
                        try:
                            chunk = next(chunks)
                        except StopIteration:
                            break
                        for delta in decoder.feed(chunk):
                            delivered.append(delta)
                            yield delta
                if not decoder.ended and decoder.stop_reason is None:
                    core.state.providers[name].report_stream_failure()
                    raise APIConnectionError(
                        f"provider {name!r} ended the stream without an end marker",
                        provider=name,
                    )
            except HolySheepError as err:
                core.count(name, ok=False)
                if delivered:
                    raise StreamInterruptedError(
                        f"the stream from provider {name!r} broke after"
                        f" {len(''.join(delivered))} characters ({type(err).__name__})",
                        partial_text="".join(delivered),
                        provider=name,
                    ) from err
                raise
            finally:
                if self._response is not None:
                    self._response.close()
            latency = core.clock.monotonic() - started
            cost = core.prices.cost(
                sent_model, decoder.input_tokens, decoder.output_tokens
            )
            core.count(name, ok=True, cost=cost)
            self._final = ChatResponse(
                text="".join(delivered),
                model=decoder.model or sent_model,
                provider=name,
                usage=Usage(decoder.input_tokens, decoder.output_tokens),
                latency_ms=latency * 1000.0,
                attempts=max(record.attempts, 1),
                cost_usd=cost,
                request_id=None,
                stop_reason=decoder.stop_reason,
            )
        except BaseException as exc:
            error = exc
            raise
        finally:
            scope.attach()
            if not isinstance(error, GeneratorExit):
                core.target_outcome(
                    plan[0],
                    served if self._final else None,
                    core.clock.monotonic() - started,
                )
                core.report(
                    operation="chat",
                    model=spec.model,
                    started=started,
                    record=record,
                    response=self._final,
                    error=error,
                    stream=True,
                )
            scope.finish(error, self._final)
