"""
ShadowCalls: the I/O-free half of a shadow call, shared by both shells. It decides
which finished calls are shadowed, builds the shadow request, turns the target's
answer into a `ChatResponse` (priced, never counted in the providers' counters), and
judges the end of the call; the shells only send and wait.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._config import MigrationConfig, ProviderConfig
from .._cost import PriceTable
from .._models import ChatResponse
from .._observe.details import ShadowDetails
from .._observe.dispatch import HookDispatcher
from .._observe.log import logger
from .._protocols import WireProtocol
from .._routing.compare import scorer_for
from .._routing.router import WeightedRouter
from .._routing.shadow import ShadowJob, ShadowPolicy
from .._transports.extensions import (
    EXT_CALL,
    EXT_PROVIDER,
    EXT_TOKENS,
)
from .._types import Clock
from ..errors import CircuitOpenError, OutputValidationError, RateLimitError
from .call import Call, CallRecord
from .parsed import parse_judged
from .scrub import Scrubber
from .tokens import estimate_input_tokens

if TYPE_CHECKING:
    import httpx2

__all__ = ["ShadowCalls"]


class ShadowCalls:
    """
    A client's shadow calls to its migration's target, with no I/O of its own.

    Shared by every call of a client; the router and the shadow policy guard
    themselves.

    Args:
        migration: The migration (with ``shadow`` set).
        target: The target's provider config.
        policy: The router's shadow policy.
        router: The client's router (the target's outcomes go to it).
        protocol: The target's wire protocol.
        prices: The client's price table.
        scrubber: Masks the providers' keys in errors.
        clock: The client's clock.
        hooks: The client's hooks.
        request_cls: ``httpx2.Request`` or ``httpx.Request``.
        tokens: The target has a tokens-per-minute limit (shadow calls reserve too).
    """

    def __init__(
        self,
        migration: MigrationConfig,
        *,
        target: ProviderConfig,
        policy: ShadowPolicy,
        router: WeightedRouter,
        protocol: WireProtocol,
        prices: PriceTable,
        scrubber: Scrubber,
        clock: Clock,
        hooks: HookDispatcher,
        request_cls: Any,
        tokens: bool = False,
    ) -> None:
        assert migration.shadow is not None
        self.migration = migration
        self.target = target
        self.policy = policy
        self._router = router
        self._protocol = protocol
        self._prices = prices
        self._scrubber = scrubber
        self._clock = clock
        self._hooks = hooks
        self._request_cls = request_cls
        self._tokens = tokens
        self._scorer = scorer_for(migration.shadow.comparator, clock=clock)
        self.closed = False

    def __repr__(self) -> str:
        return f"<ShadowCalls target={self.target.name!r} policy={self.policy!r}>"

    def admit(self, call: Call, response: ChatResponse) -> ShadowJob | None:
        """
        The shadow call of a call the source answered, when it is drawn (and may go).
        """
        if not self._router.shadowing():
            return None
        if not call.spec.needs <= self.target.capabilities:
            return None  # the target cannot take this call: nothing to compare
        allowed = call.options.providers
        if allowed is not None and self.target.name not in allowed:
            return None  # the caller kept this call away from the target
        job, skipped = self.policy.admit(
            call.spec, response, self._clock.monotonic(), call.options.extra_headers
        )
        if skipped:
            self._hooks.shadow(ShadowDetails(self.target.name, "skipped"))
        return job

    def request(self, job: ShadowJob) -> httpx2.Request:
        """
        The shadow call's HTTP request: the call's request, to the target, not streamed.
        """
        p = self.target
        proto = self._protocol
        spec = job.spec
        model = p.model_for(spec.model)
        if model != spec.model:
            spec = replace(spec, model=model)
        ext: dict[str, Any] = {EXT_PROVIDER: p.name, EXT_CALL: CallRecord()}
        if self._tokens:
            # A real request to the target's quota: it reserves its tokens too.
            ext[EXT_TOKENS] = estimate_input_tokens(spec) + spec.max_tokens
        headers = proto.headers(p.secret().get_secret_value())
        if job.headers:
            headers = {**job.headers, **headers}
        request: httpx2.Request = self._request_cls(
            "POST",
            p.base_url + proto.chat_path(),
            headers=headers,
            content=proto.chat_body(spec, cache="prompt_cache" in p.capabilities),
            extensions=ext,
        )
        return request

    def answer(
        self,
        job: ShadowJob,
        request: httpx2.Request,
        response: httpx2.Response,
        body: bytes,
    ) -> ChatResponse:
        """
        The shadow call's answer, priced (never counted in the providers' counters).

        Raises:
            APIError: An error status, or a body that is not a chat answer.
            OutputValidationError: An answer that does not match ``response_format``.
        """
        name = self.target.name
        proto = self._protocol
        if response.status_code >= 300:
            raise proto.parse_error(
                response.status_code,
                body,
                provider=name,
                request_id=None,
                retry_after=None,
            )
        output = job.spec.output
        parsed = parse_judged(
            proto,
            request,
            response,
            body,
            provider=name,
            request_id=None,
            output=output,
        )
        value = None
        if output is not None:
            try:
                value = output.parse(parsed.text)
            except ValueError:
                raise OutputValidationError(
                    f"provider {name!r} answered a shadow call with output that does"
                    " not match response_format",
                    status_code=200,
                    provider=name,
                    raw=parsed.text,
                ) from None
        sent = self.target.model_for(job.spec.model)
        latency = self._clock.monotonic() - job.started
        return ChatResponse(
            text=parsed.text,
            model=parsed.model,
            provider=name,
            usage=parsed.usage,
            latency_ms=latency * 1000.0,
            cost_usd=self._prices.cost(sent, parsed.usage),
            stop_reason=parsed.stop_reason,
            content=parsed.content,
            parsed=value,
        )

    def done(
        self,
        job: ShadowJob,
        answer: ChatResponse | None,
        error: BaseException | None,
    ) -> None:
        """
        The end of a shadow call: judged and counted, never raised.

        Args:
            job: The shadow call.
            answer: The target's answer, when it answered.
            error: Why it did not (``None`` with no answer: abandoned, not counted).
        """
        policy, target = self.policy, job.target
        if self.closed or (answer is None and error is None):
            policy.done("abandoned")
            return
        if answer is not None:
            score = self._scorer(job.source, answer, job.spec.output)
            latency = answer.latency_ms / 1000.0
            reason = self._router.record_target_outcome(
                True, latency, cost=answer.cost_usd, agreement=score
            )
            policy.done("answered", answer.cost_usd)
            self._hooks.shadow(
                ShadowDetails(target, "answered", latency, answer.cost_usd, score)
            )
        elif _refused(error):
            policy.done("refused")
            self._hooks.shadow(ShadowDetails(target, "skipped"))
            return
        else:
            assert error is not None
            self._scrubber.error(error)
            reason = self._router.record_target_outcome(False)
            policy.done("failed")
            self._hooks.shadow(
                ShadowDetails(target, "failed", error=type(error).__name__)
            )
        if reason is not None:
            logger.warning("migration rolled back: %s", reason)


def _refused(error: BaseException | None) -> bool:
    """Refused before any I/O to the target: its open breaker, or our rate limit."""
    if isinstance(error, CircuitOpenError):
        return True
    return isinstance(error, RateLimitError) and error.status_code is None
