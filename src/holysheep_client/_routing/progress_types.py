"""
The values a migration's progress is made of: the state replicas share, a proposal
to change it, one round trip to the shared state, a change a replica observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .gate import GateTotals

__all__ = ["Progress", "Proposal", "SyncJob", "Transition"]


@dataclass(frozen=True, slots=True)
class Progress:
    """
    Where a migration stands: what replicas share through Redis.

    Attributes:
        phase: The index of the phase in force.
        started: When it began, in seconds since the epoch.
        held_since: When its time ran out with the gate failing (epoch seconds).
        rolled_back: Why the target rolled back, or ``None``.
        version: Redis's version of this state (0 when never shared).
    """

    phase: int
    started: float
    held_since: float | None = None
    rolled_back: str | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Proposal:
    """
    A change one replica asks the shared state for.

    Attributes:
        kind: ``"advance"`` and ``"hold"`` apply only to ``expected``'s version;
            ``"rollback"`` applies to any state not yet rolled back.
        expected: The version the change was decided on.
        state: The state wanted.
    """

    kind: Literal["advance", "hold", "rollback"]
    expected: int
    state: Progress


@dataclass(slots=True)
class SyncJob:
    """
    One round trip to the shared state: a proposal, the gate sums since the last one.
    """

    proposal: Proposal | None
    deltas: GateTotals
    initial: Progress
    started: float


@dataclass(frozen=True, slots=True)
class Transition:
    """
    A change of progress a replica observed (decided here or adopted from Redis).

    Attributes:
        kind: ``"held"``, ``"rolled_back"`` or ``"advanced"``.
        phase: The phase it happened in (for ``"advanced"``, the new one).
        reason: The rollback's reason, or the hold's (the failing figures).
        previous: For ``"advanced"``: the phase that ended.
        held_for: For ``"advanced"``: seconds the ended phase held past its time.
    """

    kind: Literal["held", "rolled_back", "advanced"]
    phase: str
    reason: str | None = None
    previous: str | None = None
    held_for: float | None = None
