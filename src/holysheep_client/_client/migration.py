"""
MigrationDriver: the I/O-free half of a migration's background work, shared by both
shells. It decides which finished calls are shadowed, builds and judges the shadow
requests, ticks the migration (a phase ending, holding, rolling back), reports it to
the hooks and the log, and prepares the round trips to the shared state. The shells
only launch what it returns: a task in `AsyncClient`, a worker thread in `Client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._config import ClientConfig, MigrationConfig, ProviderConfig
from .._cost import PriceTable
from .._models import ChatResponse, GateStatus
from .._observe.details import GateDetails, ShadowDetails
from .._observe.dispatch import HookDispatcher
from .._observe.log import logger
from .._protocols import WireProtocol
from .._routing.compare import Scorer, scorer_for
from .._routing.gate import GateTotals, explain, totals_of
from .._routing.progress import Progress, SyncJob, Transition
from .._routing.router import WeightedRouter
from .._routing.shadow import ShadowJob
from .._transports.extensions import EXT_CALL, EXT_PROVIDER
from .._transports.observed import observed
from .._types import Clock
from ..errors import APIError, CircuitOpenError, OutputValidationError, RateLimitError
from .call import Call, CallRecord
from .scrub import Scrubber

if TYPE_CHECKING:
    import httpx2

    from .._resilience.shared.migration import MigrationStore, SharedProgress
    from .._resilience.shared.store import SharedStore

__all__ = ["MigrationDriver"]

#: Seconds between two ``"observe"`` reports of the gate's figures to the hooks.
OBSERVE_EVERY = 1.0


class MigrationDriver:
    """
    A client's migration work that happens beside the calls: shadow calls, the gate's
    decisions, the shared state's round trips. No I/O of its own.

    Shared by every call of a client; the router and the shadow policy it drives
    guard themselves.

    Args:
        config: The client's configuration (with a migration).
        router: The client's router.
        protocols: The wire protocol of each provider.
        prices: The client's price table.
        scrubber: Masks the providers' keys in errors.
        clock: The client's clock.
        hooks: The client's hooks.
        request_cls: ``httpx2.Request`` or ``httpx.Request``.
        store: The shared state's Redis connection, with ``shared_state``.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        router: WeightedRouter,
        protocols: Mapping[str, WireProtocol],
        prices: PriceTable,
        scrubber: Scrubber,
        clock: Clock,
        hooks: HookDispatcher,
        request_cls: Any,
        store: SharedStore | None = None,
    ) -> None:
        assert config.migration is not None
        self.migration: MigrationConfig = config.migration
        self.target: ProviderConfig = config.provider(self.migration.target)
        self._router = router
        self._protocols = protocols
        self._prices = prices
        self._scrubber = scrubber
        self._clock = clock
        self._hooks = hooks
        self._request_cls = request_cls
        shadow = self.migration.shadow
        self._scorer: Scorer | None = (
            scorer_for(shadow.comparator, clock=clock) if shadow is not None else None
        )
        self._next_observe = 0.0
        self.closed = False
        self.remote: MigrationStore | None = None
        if store is not None and self.migration.started_at is not None:
            from .._resilience.shared.migration import MigrationStore

            gate = self.migration.gate
            self.remote = MigrationStore(
                store,
                source=self.migration.source,
                target=self.migration.target,
                started_at=self.migration.started_at.timestamp(),
                window=gate.window if gate is not None else None,
            )

    def __repr__(self) -> str:
        m = self.migration
        return f"<MigrationDriver source={m.source!r} target={m.target!r}>"

    # -- after a call -----------------------------------------------------------------

    def after_call(self, call: Call, response: ChatResponse | None) -> ShadowJob | None:
        """
        What a finished call adds to the migration: the source's cost for the gate,
        and the shadow call to launch, if this call is sampled.
        """
        m = self.migration
        if response is None or response.provider != m.source:
            return None
        if m.gate is not None and response.cost_usd is not None:
            self._router.record_source_cost(response.cost_usd)
        policy = self._router.shadow
        if policy is None or not self._router.shadowing():
            return None
        if not call.spec.needs <= self.target.capabilities:
            return None  # the target cannot take this call: nothing to compare
        job, skipped = policy.admit(call.spec, response, self._clock.monotonic())
        if skipped:
            self._hooks.shadow(ShadowDetails(m.target, "skipped"))
        return job

    # -- a shadow call ----------------------------------------------------------------

    def shadow_request(self, job: ShadowJob) -> httpx2.Request:
        """
        The shadow call's HTTP request: the call's request, to the target, not streamed.
        """
        p = self.target
        proto = self._protocols[p.name]
        spec = job.spec
        model = p.model_for(spec.model)
        if model != spec.model:
            from dataclasses import replace

            spec = replace(spec, model=model)
        request: httpx2.Request = self._request_cls(
            "POST",
            p.base_url + proto.chat_path(),
            headers=proto.headers(p.secret().get_secret_value()),
            content=proto.chat_body(spec, cache="prompt_cache" in p.capabilities),
            extensions={EXT_PROVIDER: p.name, EXT_CALL: CallRecord()},
        )
        return request

    def shadow_answer(
        self, job: ShadowJob, response: httpx2.Response, body: bytes
    ) -> ChatResponse:
        """
        The shadow call's answer, priced (never counted in the providers' counters).

        Raises:
            APIError: An error status, or a body that is not a chat answer.
            OutputValidationError: An answer that does not match ``response_format``.
        """
        name = self.target.name
        proto = self._protocols[name]
        if response.status_code >= 300:
            raise proto.parse_error(
                response.status_code,
                body,
                provider=name,
                request_id=None,
                retry_after=None,
            )
        output = job.spec.output
        stream = observed(response)
        try:
            parsed = proto.parse_chat(
                body, provider=name, request_id=None, output=output
            )
        except APIError:
            if stream is not None:
                stream.settle(False)
            raise
        if stream is not None:
            stream.settle(True)
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

    def shadow_done(
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
        policy = self._router.shadow
        assert policy is not None
        target = job.target
        if self.closed or (answer is None and error is None):
            policy.done("abandoned")
            return
        if answer is not None:
            assert self._scorer is not None
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

    # -- the migration's clock --------------------------------------------------------

    def tick(self, *, sync: bool = True) -> SyncJob | None:
        """
        Let the migration decide what is due; report it.

        Returns:
            A round trip to the shared state to launch, when one is due (and ``sync``).
        """
        moves, job = self._router.tick(sync=sync and self.remote is not None)
        self._report(moves)
        return job

    def sync_args(self, job: SyncJob) -> list[str]:
        """
        The shared-state script's arguments for ``job``.
        """
        assert self.remote is not None
        p = job.proposal
        proposal = None if p is None else (p.kind, p.expected, _plain(p.state))
        return self.remote.args(_plain(job.initial), proposal, job.deltas.fields())

    def synced(
        self, job: SyncJob, reply: tuple[SharedProgress, dict[str, float]] | None
    ) -> None:
        """
        Take the shared state's reply to ``job`` (``None``: Redis did not answer).
        """
        ours: tuple[Progress, GateTotals] | None = None
        if reply is not None:
            s, sums = reply
            state = Progress(s.phase, s.started, s.held_since, s.rolled_back, s.version)
            ours = (state, totals_of(sums))
        self._report(self._router.synced(job, ours))

    def dropped(self, job: SyncJob) -> None:
        """
        ``job`` was never sent (no event loop, or the client is closing).
        """
        self._router.synced(job, None, reached=False)

    def load_blocking(self) -> None:
        """
        Read the shared state once, blocking for at most ``shared_state.timeout``, so a
        client built after a rollback starts rolled back (the shells call it once,
        from their constructors; every later round trip runs in the background).
        """
        if self.remote is None:
            return
        job = self.tick()
        if job is not None:
            self.synced(job, self.remote.run(self.sync_args(job)))

    def _report(self, moves: list[Transition]) -> None:
        gate = self.migration.gate
        now = self._clock.monotonic()
        status: GateStatus | None = None
        if moves or (
            self._hooks.hooks and gate is not None and now >= self._next_observe
        ):
            status = self._router.gate_status()
        for move in moves:
            reason = move.reason
            if move.kind == "held" and gate is not None and status is not None:
                reason = explain(gate, status)
            self._hooks.gate(
                GateDetails(
                    self.migration.target,
                    move.phase,
                    move.kind,
                    status,
                    reason,
                )
            )
        if status is not None and not moves and gate is not None:
            self._next_observe = now + OBSERVE_EVERY
            self._hooks.gate(
                GateDetails(
                    self.migration.target, self._router.phase_name(), "observe", status
                )
            )


def _refused(error: BaseException | None) -> bool:
    """Refused before any I/O to the target: its open breaker, or our rate limit."""
    if isinstance(error, CircuitOpenError):
        return True
    return isinstance(error, RateLimitError) and error.status_code is None


def _plain(state: Progress) -> tuple[int, float, float | None, str | None]:
    return (state.phase, state.started, state.held_since, state.rolled_back)
