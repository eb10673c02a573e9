"""
MigrationDriver: the I/O-free half of a migration's work beside the calls, shared by
both shells. At the start of a call it ticks the migration (a phase ending, holding,
rolling back) and reports it to the hooks and the log; at the end it records the
target's outcome and the source's cost, and admits the shadow call; it prepares the
round trips to the shared state. What needs I/O goes to the shell's `Launcher`: a
task in `AsyncClient`, a worker thread in `Client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._config import ClientConfig, MigrationConfig
from .._cost import PriceTable
from .._models import ChatResponse, GateStatus
from .._observe.details import GateDetails
from .._observe.dispatch import HookDispatcher
from .._observe.log import logger
from .._protocols import WireProtocol
from .._resilience.state import StackState
from .._routing.gate import GateTotals, explain, totals_of
from .._routing.progress_types import Progress, SyncJob, Transition
from .._routing.router import WeightedRouter
from .._routing.shadow import ShadowJob
from .._types import Clock
from .call import Call
from .scrub import Scrubber
from .shadow import ShadowCalls

if TYPE_CHECKING:
    from .._resilience.shared.migration import MigrationStore, SharedProgress

__all__ = ["Launcher", "MigrationDriver"]

#: Seconds between two ``"observe"`` reports of the gate's figures to the hooks.
OBSERVE_EVERY = 1.0


class Launcher(Protocol):
    """
    How a shell runs what the driver decides, off the callers' path.
    """

    def shadow(self, job: ShadowJob) -> None:
        """Start one shadow call."""

    def sync(self, job: SyncJob) -> None:
        """Start one round trip to the shared migration state."""


class MigrationDriver:
    """
    A client's migration work beside its calls: the gate's decisions, the shadow
    calls, the shared state's round trips. No I/O of its own except `load_blocking`.

    Shared by a client and its `with_options` views; the router and the shadow policy
    it drives guard themselves.

    Args:
        config: The client's configuration (with a migration).
        router: The client's router.
        protocols: The wire protocol of each provider.
        prices: The client's price table.
        scrubber: Masks the providers' keys in errors.
        clock: The client's clock.
        hooks: The client's hooks.
        request_cls: ``httpx2.Request`` or ``httpx.Request``.
        state: The client's resilience state (its Redis store, the target's limits).
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
        state: StackState,
    ) -> None:
        assert config.migration is not None
        m: MigrationConfig = config.migration
        self.migration = m
        self._router = router
        self._clock = clock
        self._hooks = hooks
        self._next_observe = 0.0
        self._closed = False
        self.launcher: Launcher | None = None
        self.shadow: ShadowCalls | None = None
        if router.shadow is not None:
            self.shadow = ShadowCalls(
                m, target=config.provider(m.target), policy=router.shadow,
                router=router, protocol=protocols[m.target], prices=prices,
                scrubber=scrubber, clock=clock, hooks=hooks, request_cls=request_cls,
                tokens=state.providers[m.target].tokens is not None,
            )  # fmt: skip
        self.remote: MigrationStore | None = None
        if state.shared is not None and m.started_at is not None:
            from .._resilience.shared.migration import MigrationStore

            self.remote = MigrationStore(
                state.shared,
                source=m.source,
                target=m.target,
                started_at=m.started_at.timestamp(),
                window=m.gate.window if m.gate is not None else None,
            )

    def __repr__(self) -> str:
        m = self.migration
        return f"<MigrationDriver source={m.source!r} target={m.target!r}>"

    @property
    def shadow_target(self) -> str | None:
        """
        The provider shadow calls go to, or ``None`` without shadow traffic.
        """
        return self.shadow.target.name if self.shadow is not None else None

    @property
    def closed(self) -> bool:
        """
        Whether the client closed: nothing more is launched or counted.
        """
        return self._closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self._closed = value
        if self.shadow is not None:
            self.shadow.closed = value

    # -- a call's start and end ----------------------------------------------------

    def begin(self) -> None:
        """
        At a call's start: let the migration decide what is due, launch a round trip.
        """
        if self._closed:
            return
        job = self.tick()
        if job is not None and self.launcher is not None:
            self.launcher.sync(job)

    def finish(self, call: Call, response: ChatResponse | None, latency: float) -> None:
        """
        At a call's end (not abandoned): the target's outcome when it was the primary,
        the source's cost for the gate, and the shadow call when it is drawn.
        """
        if self._closed:
            return
        m, router = self.migration, self._router
        primary = call.plan[0] if call.plan else None
        if primary is not None and router.is_migration_target(primary):
            ok = response is not None and response.provider == primary
            reason = router.record_target_outcome(
                ok,
                latency if ok else None,
                cost=response.cost_usd if ok and response is not None else None,
            )
            if reason is not None:
                logger.warning("migration rolled back: %s", reason)
        if response is None or response.provider != m.source:
            return
        if m.gate is not None and response.cost_usd is not None:
            router.record_source_cost(response.cost_usd)
        if self.shadow is not None and self.launcher is not None:
            job = self.shadow.admit(call, response)
            if job is not None:
                self.launcher.shadow(job)

    # -- the migration's clock -----------------------------------------------------

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

    def shadow_done(
        self, job: ShadowJob, answer: ChatResponse | None, error: BaseException | None
    ) -> None:
        """
        The end of a shadow call (see `ShadowCalls.done`).
        """
        assert self.shadow is not None
        self.shadow.done(job, answer, error)

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
        observe = self._hooks.hooks and gate is not None and now >= self._next_observe
        status: GateStatus | None = None
        if moves or observe:
            status = self._router.gate_status()
        target = self.migration.target
        for move in moves:
            reason = move.reason
            if move.kind == "held" and gate is not None and status is not None:
                reason = explain(gate, status)
            self._hooks.gate(GateDetails(target, move.phase, move.kind, status, reason))
        if observe and not moves:
            self._next_observe = now + OBSERVE_EVERY
            phase = self._router.phase_name()
            self._hooks.gate(GateDetails(target, phase, "observe", status))


def _plain(state: Progress) -> tuple[int, float, float | None, str | None]:
    return (state.phase, state.started, state.held_since, state.rolled_back)
