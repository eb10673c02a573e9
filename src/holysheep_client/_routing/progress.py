"""
A migration's progress when phases end by a verdict, not by the clock alone: the
phase in force, since when, whether it holds, whether the target rolled back. Pure
logic, no I/O.

Without a gate and without shared state the phase is a function of the clock
(`phase_at`). With a gate, a phase ends on the clock only when the gate passes at
that moment; otherwise it holds (``on_fail="hold"``, judged again on every tick)
or the target rolls back (``"rollback"``). A window with fewer than
``min_samples`` outcomes always holds: no evidence is no reason to roll back.

With ``shared_state``, every replica keeps the same progress through Redis. A
replica *proposes* an advance and applies it only once Redis confirms it (a
compare-and-set on the version), so while Redis is unreachable no phase advances;
holds and rollbacks, the safe direction, apply at once and are proposed too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from .._config import MigrationConfig
from .._models import GateStatus, MigrationStatus, ShadowStatus
from .gate import GateTotals, GateWindow, explain, judge
from .migration import PhasePosition, phase_at
from .progress_types import Progress, Proposal, SyncJob, Transition

__all__ = ["JUDGE_EVERY", "SYNC_INTERVAL", "MigrationProgress"]

#: Seconds between two syncs of a replica with the shared state (while it has calls).
SYNC_INTERVAL = 0.25
#: A sync not answered after this many seconds is given up (another may start).
_STALE = 5.0
#: Seconds between two verdicts while a phase holds.
JUDGE_EVERY = 0.1


class MigrationProgress:
    """
    The progress of one migration in one process, and its gate's sums.

    Not thread-safe by itself: the router that owns it holds the lock.

    Args:
        migration: The migration.
        shared: Progress is kept in Redis (``shared_state`` is set).
    """

    def __init__(self, migration: MigrationConfig, *, shared: bool = False) -> None:
        self.migration = migration
        self.gate = migration.gate
        self.shared = shared
        self.stateful = shared or migration.gate is not None
        at = migration.started_at
        self.start = at.timestamp() if at is not None else None
        self.state = Progress(0, self.start or 0.0)
        self.known = not shared
        self.unreachable = False
        self._proposal: Proposal | None = None
        self._job: SyncJob | None = None
        self._next_sync = 0.0
        self._next_judge = 0.0
        window = self.gate.window if self.gate is not None else 0.0
        self._window = GateWindow(window) if window and not shared else None
        self._base = GateTotals()
        self._pending = GateTotals()
        self._sending = GateTotals()

    # -- where it stands ------------------------------------------------------------

    def position(self, now: datetime) -> PhasePosition | None:
        """
        The phase in force at ``now``, or ``None`` before ``started_at``.
        """
        if not self.stateful:
            return phase_at(self.migration, now)
        if self.start is None or now.timestamp() < self.start:
            return None
        phases = self.migration.phases
        i = min(self.state.phase, len(phases) - 1)
        phase = phases[i]
        if phase.duration == 0 or i == len(phases) - 1:
            left = self.state.started + phase.duration - now.timestamp()
            return PhasePosition(
                i, phase.name, phase.weight, left if left > 0 else None
            )
        left = self.state.started + phase.duration - now.timestamp()
        return PhasePosition(i, phase.name, phase.weight, max(left, 0.0))

    def held_since(self) -> datetime | None:
        """
        When the phase in force began to hold, or ``None``.
        """
        hs = self.state.held_since
        return None if hs is None else datetime.fromtimestamp(hs, UTC)

    # -- the gate's sums ------------------------------------------------------------

    def sink(self, t: float) -> GateTotals | None:
        """
        Where an outcome at monotonic time ``t`` is counted (``None`` without a gate).
        """
        if self.gate is None:
            return None
        if self._window is not None:
            return self._window.bucket(t)
        return self._pending

    def totals(self, t: float) -> GateTotals:
        """
        The gate's sums now: this process's window, or the shared sums plus ours
        not yet in Redis.
        """
        if self._window is not None:
            return self._window.totals(t)
        out = GateTotals()
        for part in (self._base, self._sending, self._pending):
            out.merge(part)
        return out

    def verdict(self, t: float) -> GateStatus | None:
        """
        The gate's verdict now, or ``None`` without a gate.
        """
        return None if self.gate is None else judge(self.gate, self.totals(t))

    # -- deciding -------------------------------------------------------------------

    def step(self, now: float, t: float) -> list[Transition]:
        """
        End the phase in force if its time is up and the gate passes; else hold or
        roll back. ``now`` is epoch seconds, ``t`` the monotonic time.
        """
        if not self.stateful or self.start is None or now < self.start:
            return []
        if not self.known or self.state.rolled_back is not None:
            return []  # no decision before the shared state is known
        old = self.state
        phases = self.migration.phases
        while True:
            s = self.state
            i = s.phase
            if i >= len(phases) - 1 or phases[i].duration == 0:
                break
            end = s.started + phases[i].duration
            if now < end or self._advancing():
                break
            if s.held_since is not None and t < self._next_judge:
                break
            self._next_judge = t + JUDGE_EVERY
            status = self.verdict(t)
            if status is None or status.passing:
                new = Progress(i + 1, end if s.held_since is None else now)
                if self.shared:
                    self._proposal = Proposal(
                        "advance", s.version, replace(new, version=s.version)
                    )
                    break
                self.state = new
                continue
            assert self.gate is not None
            if self.gate.on_fail == "rollback" and "min_samples" not in status.failing:
                self.rollback(
                    f"gate failed at the end of {phases[i].name}: {explain(self.gate, status)}"
                )
            elif s.held_since is None:
                self.state = replace(s, held_since=now)
                if self.shared:
                    self._propose(Proposal("hold", s.version, self.state))
            break
        return self._diff(old, self.state, now)

    def _advancing(self) -> bool:
        p = self._proposal
        job = self._job
        return (p is not None and p.kind == "advance") or (
            job is not None
            and job.proposal is not None
            and job.proposal.kind == "advance"
        )

    def _propose(self, proposal: Proposal) -> None:
        current = self._proposal
        if current is None or current.kind != "rollback":
            self._proposal = proposal

    def rollback(self, reason: str) -> bool:
        """
        Roll the target back now (and propose it to the other replicas).

        Returns:
            True when this rolled it back, False when it already was.
        """
        if self.state.rolled_back is not None:
            return False
        self.state = replace(self.state, rolled_back=reason)
        if self.shared:
            self._proposal = Proposal("rollback", self.state.version, self.state)
        return True

    def clear_rollback(self) -> None:
        """
        Forget a rollback and a hold here (`set_weights`; the shared state keeps them).
        """
        self.state = replace(self.state, rolled_back=None, held_since=None)
        if self._proposal is not None and self._proposal.kind == "rollback":
            self._proposal = None

    def waiting(self, now: float) -> bool:
        """
        True when the phase's time is up, the gate did not hold it, and its end waits
        for the shared state to confirm it (or for the first state to arrive).
        """
        s = self.state
        if not self.shared or s.rolled_back is not None or s.held_since is not None:
            return False
        if self.start is None or now < self.start:
            return False
        phases = self.migration.phases
        if s.phase >= len(phases) - 1 or phases[s.phase].duration == 0:
            return False
        return now >= s.started + phases[s.phase].duration

    def status(
        self, now: datetime, t: float, weight: float, shadow: ShadowStatus | None
    ) -> MigrationStatus:
        """
        Where the migration stands (not paused by hand): phase, hold, rollback, gate.
        """
        pos = self.position(now)
        reason = self.state.rolled_back
        held = self.held_since() if reason is None else None
        if held is not None and pos is not None:
            reason = f"{pos.name} holds: {self.explain_hold(t)}"
        elif reason is None and self.waiting(now.timestamp()):
            reason = (
                "the phase's time is up; waiting for the shared state to confirm"
                " the next one (no replica advances alone)"
            )
        return MigrationStatus(
            phase=pos.name if pos is not None else None,
            target_weight=weight,
            rolled_back=self.state.rolled_back is not None,
            reason=reason,
            gate=self.verdict(t),
            held_since=held,
            shadow=shadow,
        )

    def explain_hold(self, t: float) -> str | None:
        """
        Why the phase in force holds (the failing figures), or ``None``.
        """
        if self.state.held_since is None or self.gate is None:
            return None
        status = self.verdict(t)
        assert status is not None
        if status.passing:
            return "the gate passes; the phase ends at the next tick"
        return explain(self.gate, status)

    def _diff(self, old: Progress, new: Progress, now: float) -> list[Transition]:
        phases = self.migration.phases
        out = []
        if new.phase > old.phase:
            held_for = None
            if old.held_since is not None:
                held_for = max(new.started - old.held_since, 0.0)
            out.append(
                Transition(
                    "advanced",
                    phases[min(new.phase, len(phases) - 1)].name,
                    previous=phases[min(old.phase, len(phases) - 1)].name,
                    held_for=held_for,
                )
            )
        if new.held_since is not None and (
            old.held_since is None or new.phase != old.phase
        ):
            out.append(Transition("held", phases[min(new.phase, len(phases) - 1)].name))
        if new.rolled_back is not None and old.rolled_back is None:
            out.append(
                Transition(
                    "rolled_back",
                    phases[min(new.phase, len(phases) - 1)].name,
                    reason=new.rolled_back,
                )
            )
        return out

    # -- the shared state -----------------------------------------------------------

    def _reassert(self, ours: Progress, version: int) -> Progress:
        if ours.rolled_back is not None:
            self._proposal = Proposal("rollback", version, ours)
        else:
            self._proposal = Proposal("advance", version, ours)
        return replace(ours, version=version)

    def sync_job(self, t: float) -> SyncJob | None:
        """
        The next round trip to the shared state, when one is due (at most one at once).
        """
        if not self.shared or self.start is None:
            return None
        job = self._job
        if job is not None and t - job.started < _STALE:
            return None
        if t < self._next_sync and (self._proposal is None or self.unreachable):
            return None
        # A Redis that lost its data (restarted, flushed) starts again from the
        # last state this replica knew, not from the first phase.
        initial = self.state if self.known else Progress(0, self.start)
        job = SyncJob(self._proposal, self._pending, initial, t)
        self._proposal = None
        self._sending.merge(self._pending)
        self._pending = GateTotals()
        self._job = job
        self._next_sync = t + SYNC_INTERVAL
        return job

    def adopt(
        self,
        job: SyncJob,
        reply: tuple[Progress, GateTotals] | None,
        now: float,
        *,
        reached: bool = True,
    ) -> list[Transition]:
        """
        Take the shared state's answer to ``job`` (``None``: Redis did not answer, or
        with ``reached=False`` the job was never sent).

        Returns:
            The transitions this replica sees in it.
        """
        if self._job is job:
            self._job = None
        if reply is None:
            if reached:
                self.unreachable = True
            else:
                self._next_sync = 0.0
            if job.proposal is not None and (
                job.proposal.kind == "rollback" or self._proposal is None
            ):
                self._proposal = job.proposal
            self._sending = GateTotals()
            self._pending.merge(job.deltas)
            return []
        state, totals = reply
        self.unreachable = False
        self.known = True
        self._base = totals
        self._sending = GateTotals()
        old = self.state
        if state.version < old.version:
            # Redis lost the state (restarted empty, flushed) and a replica that knew
            # less wrote it again: keep ours, and put it back.
            state = self._reassert(old, state.version)
        local = self._proposal
        if old.rolled_back is not None and state.rolled_back is None:
            # Decided here after this job left: keep it, and it goes out next.
            state = replace(state, rolled_back=old.rolled_back)
            if local is None or local.kind != "rollback":
                self._proposal = Proposal("rollback", state.version, state)
        elif (
            local is not None
            and local.kind == "hold"
            and state.phase == old.phase
            and state.held_since is None
        ):
            state = replace(state, held_since=old.held_since)
        if (
            local is not None
            and local.kind != "rollback"
            and local.expected != state.version
        ):
            self._proposal = None  # decided on a state that is gone
        self.state = state
        return self._diff(old, state, now)
