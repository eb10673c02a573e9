"""
Hops: building one hop's request and reading its answer, with no I/O.

A hop is one provider's part of a call: the request in that provider's protocol,
model id and key (with the call's options, token reservation and context pre-check),
then its answer parsed, checked against ``response_format``, priced and counted.
`BaseClient` owns one; both shells send what it builds and hand it what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._config import ClientConfig, ProviderConfig
from .._content.blocks import Block, ToolUseBlock
from .._content.schemas import OutputFormat
from .._cost import PriceTable
from .._models import ChatResponse
from .._protocols import ChatRequestSpec, ParsedChat, WireProtocol
from .._resilience.state import StackState
from .._routing.failover import FailoverPolicy
from .._transports.deadline import Abort
from .._transports.extensions import (
    EXT_ABORT,
    EXT_CALL,
    EXT_DEADLINE,
    EXT_FIRST_BY,
    EXT_MAX_ATTEMPTS,
    EXT_PROVIDER,
    EXT_RETRY_AFTER,
    EXT_TIMEOUTS,
    EXT_TOKENS,
)
from .._types import Clock
from ..errors import APIError, ContextLengthError, OutputValidationError
from .call import Call, CallRecord, Counters
from .parsed import parse_judged
from .scrub import Scrubber
from .spec import build_spec
from .tokens import CONTEXT_WINDOWS, context_window, estimate_input_tokens

if TYPE_CHECKING:
    import httpx2

__all__ = ["Hops", "calls_tools"]


class Hops:
    """
    Requests and answers of a client's hops; shares the client's state (no I/O).

    Args:
        config: The client's configuration.
        protocols: Provider name -> its wire protocol.
        state: The resilience state (token limiters).
        policy: The failover policy (context fallbacks).
        clock: The time source.
        counters: The per-provider counters.
        scrubber: Masks the client's keys in provider text.
        request_cls: ``httpx2.Request`` or ``httpx.Request``.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        protocols: Mapping[str, WireProtocol],
        state: StackState,
        policy: FailoverPolicy,
        clock: Clock,
        counters: Counters,
        scrubber: Scrubber,
        request_cls: Any,
    ) -> None:
        self._config = config
        self._providers: dict[str, ProviderConfig] = {
            p.name: p for p in config.providers
        }
        self._protocols = protocols
        self._state = state
        self._policy = policy
        self._clock = clock
        self._counters = counters
        self._scrubber = scrubber
        self._request_cls = request_cls
        self.prices = PriceTable(config.pricing)

    def request(
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
        options = call.options
        ext: dict[str, Any] = {
            EXT_DEADLINE: call.deadline,
            EXT_PROVIDER: name,
            EXT_CALL: call.record,
        }
        first_token = call.timeout.first_token
        if call.stream and first_token is not None:
            ext[EXT_FIRST_BY] = self._clock.monotonic() + first_token
        if abort is not None:
            ext[EXT_ABORT] = abort
        if options.timeout is not None:
            ext[EXT_TIMEOUTS] = options.timeout
        if options.max_attempts is not None:
            ext[EXT_MAX_ATTEMPTS] = options.max_attempts
        if self._state.providers[name].tokens is not None or model in CONTEXT_WINDOWS:
            needed = self.estimate(call, sent) + sent.max_tokens
            self.fits(name, sent, needed)
            ext[EXT_TOKENS] = needed
        headers = proto.headers(provider.secret().get_secret_value())
        if options.extra_headers:
            headers = {**options.extra_headers, **headers}
        request = self._request_cls(
            "POST",
            provider.base_url + proto.chat_path(),
            headers=headers,
            content=proto.chat_body(
                sent, cache="prompt_cache" in provider.capabilities
            ),
            extensions=ext,
        )
        return request, model

    def estimate(self, call: Call, spec: ChatRequestSpec) -> int:
        """The call's local input estimate (the same for every hop)."""
        if call.estimate is None:
            call.estimate = estimate_input_tokens(spec)
        return call.estimate

    def fits(self, name: str, sent: ChatRequestSpec, needed: int) -> None:
        """
        Move a call that cannot fit its model before sending it, when a larger one
        is configured for its alias (`context_fallbacks`).

        Raises:
            ContextLengthError: It does not fit and a fallback exists (no status).
        """
        window = context_window(sent.model)
        alias = sent.model if sent.model in self._policy.context_fallbacks else None
        if alias is None:
            alias = next(
                (
                    a
                    for a in self._policy.context_fallbacks
                    if self._providers[name].model_for(a) == sent.model
                ),
                None,
            )
        if window is not None and needed > window and alias is not None:
            raise ContextLengthError(
                f"the call needs about {needed} tokens, more than {sent.model}'s"
                f" {window}; moving it to its larger model before sending",
                provider=name,
            )

    def get_request(self, name: str, path: str) -> httpx2.Request:
        """
        A GET to ``{base_url}{path}`` with the provider's auth headers.
        """
        return self._plain(name, "GET", path, None)

    def count_plan(
        self,
        messages: Sequence[Any],
        model: str,
        tools: Sequence[Any] | None,
        provider: str | None,
    ) -> tuple[str, ChatRequestSpec, httpx2.Request | None]:
        """
        The provider, request spec and token-count request of ``count_tokens``.

        Raises:
            BadRequestError: The messages, model or tools are invalid.
            ConfigError: No provider has that name.
        """
        spec = build_spec(
            messages, model=model, max_tokens=1, temperature=None, stream=False,
            extra=None, tools=tools,
        )  # fmt: skip
        name = self.models_provider(provider)
        return name, spec, self.count_request(name, spec)

    def count_request(self, name: str, spec: ChatRequestSpec) -> httpx2.Request | None:
        """
        The provider's token-count request for ``spec`` (its model id), or
        ``None`` when its protocol has no counting endpoint.
        """
        proto = self._protocols[name]
        path = proto.count_path()
        if path is None:
            return None
        provider = self._providers[name]
        model = provider.model_for(spec.model)
        sent = spec if model == spec.model else _with_model(spec, model)
        body = proto.count_body(sent, cache="prompt_cache" in provider.capabilities)
        return self._plain(name, "POST", path, body)

    def counted(
        self,
        name: str,
        spec: ChatRequestSpec,
        response: httpx2.Response | None,
        body: bytes,
    ) -> int:
        """
        The input tokens of a count answer; the local estimate when the protocol
        has no counting endpoint (no ``response``) or the provider has none (404).

        Raises:
            APIError: Any other error answer, or a body that is not a count.
        """
        if response is None or response.status_code == 404:
            return estimate_input_tokens(spec)
        if response.status_code >= 300:
            raise self.error(name, response, body)
        return self._protocols[name].parse_count(body, provider=name)

    def _plain(
        self, name: str, method: str, path: str, body: bytes | None
    ) -> httpx2.Request:
        provider = self._config.provider(name)
        headers = self._protocols[name].headers(provider.secret().get_secret_value())
        if body is None:
            headers.pop("content-type", None)
        total = self._config.timeout.total
        request: httpx2.Request = self._request_cls(
            method,
            provider.base_url + path,
            headers=headers,
            content=body,
            extensions={
                EXT_DEADLINE: None
                if total is None
                else self._clock.monotonic() + total,
                EXT_PROVIDER: name,
                EXT_CALL: CallRecord(),
            },
        )
        return request

    def models_provider(self, provider: str | None) -> str:
        name = provider or next(iter(self._providers))
        self._config.provider(name)
        return name

    def error(self, name: str, response: httpx2.Response, body: bytes) -> APIError:
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

    def answer(
        self,
        call: Call,
        name: str,
        sent_model: str,
        request: httpx2.Request,
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
            raise self.error(name, response, body)
        output = call.spec.output
        parsed = parse_judged(
            self._protocols[name],
            request,
            response,
            body,
            provider=name,
            request_id=_request_id(response),
            output=output,
        )
        value = None
        if output is not None and not calls_tools(parsed.content):
            value = self.checked(name, output, parsed.text)
        return self.response(call, name, sent_model, parsed, value)

    def checked(self, name: str, output: OutputFormat, text: str) -> Any:
        """
        The answer parsed against ``output``, or `OutputValidationError`.

        An answer calling the caller's tools is a turn of the tool loop, not the
        final answer: it is not checked (see `calls_tools`).
        """
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

    def response(
        self,
        call: Call,
        name: str,
        sent_model: str,
        parsed: ParsedChat,
        value: Any = None,
    ) -> ChatResponse:
        latency = self._clock.monotonic() - call.started
        cost = self.prices.cost(sent_model, parsed.usage)
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

    def models(self, name: str, response: httpx2.Response, body: bytes) -> list[str]:
        if response.status_code >= 300:
            raise self.error(name, response, body)
        return self._protocols[name].parse_models(body, provider=name)

    # -- counters ------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Hops providers={list(self._providers)}>"


def _with_model(spec: ChatRequestSpec, model: str) -> ChatRequestSpec:
    return replace(spec, model=model)


def _request_id(response: httpx2.Response) -> str | None:
    h = response.headers
    return h.get("request-id") or h.get("x-request-id")


def calls_tools(content: tuple[Block, ...]) -> bool:
    """
    Whether an answer calls the caller's tools: then it is a turn of the tool loop,
    and ``response_format`` applies to the answer that ends the loop.
    """
    return any(isinstance(b, ToolUseBlock) for b in content)
