"""
CircuitBreaker (pybreaker for state, counters, listeners and transitions, with our
own admission around it) and CircuitBreakerTransport.

pybreaker alone does not fit an asyncio client: its async path needs Tornado,
``call(async_fn)`` records success before the coroutine runs, ``calling()`` counts
cancellation as a failure, and half-open admits every caller. So admission is
ours, synchronous (no ``await``, so no task can slip in between check and
admit), and tracked with a generation number that every transition bumps:

- closed admits everyone; open raises `CircuitOpenError` at once, with no I/O;
- after ``reset_timeout`` exactly one caller is admitted as the half-open probe;
- a result is recorded only if no transition happened since its call was
  admitted, so stragglers from before a state change cause no transition;
- cancellation and local refusals are no verdict (the permit is just released);
- caller errors (4xx) are successes of the provider; 429 is no verdict;
- a 2xx answer's verdict waits for the end of its body, so a stream cut after
  the headers counts as a failure.

pybreaker never reads time here: we never ask it to admit while open, so its
``datetime.now()`` read sits unused and our clock decides when to probe.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Literal

from .._clock import SYSTEM_CLOCK
from .._observe.details import BreakerTransition
from .._observe.dispatch import HookDispatcher
from .._transports.base import Layer
from .._transports.extensions import EXT_SENT
from .._transports.observed import observe
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import APIConnectionError, CircuitOpenError
from .backoff import breaker_verdict

if TYPE_CHECKING:
    import httpx2

    from .._config import BreakerConfig

__all__ = ["BreakerState", "CircuitBreaker", "CircuitBreakerTransport"]

BreakerState = Literal["closed", "open", "half_open"]

_STATES: dict[str, BreakerState] = {
    "closed": "closed",
    "open": "open",
    "half-open": "half_open",
}


class _ProviderFailure(Exception):
    """What pybreaker is told failed (it only counts exceptions)."""


def _fail() -> None:
    raise _ProviderFailure


def _succeed() -> None:
    return None


class Permit:
    """
    One admitted call: the generation it was admitted in, and whether it is the probe.

    Calling it with an outcome records that outcome (see `CircuitBreaker.record`).
    """

    __slots__ = ("breaker", "done", "generation", "probe")

    def __init__(self, breaker: CircuitBreaker, generation: int, probe: bool) -> None:
        self.breaker = breaker
        self.generation = generation
        self.probe = probe
        self.done = False

    def __call__(self, outcome: bool | None) -> None:
        self.breaker.record(self, outcome)

    def __repr__(self) -> str:
        return f"<Permit generation={self.generation} probe={self.probe}>"


class CircuitBreaker:
    """
    One provider's circuit breaker.

    Shared by every request to that provider (and by every stack of a client);
    guarded by a lock, never held across an ``await``. Hooks are called after
    the lock is released.

    Args:
        provider: The provider's name.
        config: ``fail_max`` and ``reset_timeout``.
        clock: The time source for ``reset_timeout``.
        hooks: Receives a `BreakerTransition` on every state change.
    """

    def __init__(
        self,
        provider: str,
        config: BreakerConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        hooks: HookDispatcher | None = None,
    ) -> None:
        import pybreaker

        self.provider = provider
        self.fail_max = config.fail_max
        self.reset_timeout = config.reset_timeout
        self._clock = clock
        self._hooks = hooks or HookDispatcher()
        self._lock = threading.Lock()
        self._counted = False  # pybreaker's failure counter may be above 0
        self._state: BreakerState = "closed"
        self._generation = 0
        self._opened_at = 0.0
        self._probing = False
        self._pending: list[BreakerTransition] = []
        listener = _make_listener(self, pybreaker.CircuitBreakerListener)
        self._cb: Any = pybreaker.CircuitBreaker(
            fail_max=config.fail_max,
            reset_timeout=config.reset_timeout,
            name=provider,
            listeners=[listener],
            throw_new_error_on_trip=False,
        )

    # -- reads -----------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """
        ``"closed"``, ``"open"`` or ``"half_open"``.

        An open breaker whose ``reset_timeout`` has passed reads ``"half_open"``:
        the next call will be its probe. Reading never changes the state.
        """
        state = self._state
        if state == "open" and self._clock.monotonic() >= self._reopen_at():
            return "half_open"
        return state

    def would_admit(self) -> bool:
        """
        Whether a call would be admitted now, without admitting it.
        """
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open":
                return self._clock.monotonic() >= self._reopen_at()
            return not self._probing

    @property
    def fail_counter(self) -> int:
        """
        Consecutive failures counted so far (pybreaker's counter).
        """
        return int(self._cb.fail_counter)

    def _reopen_at(self) -> float:
        return self._opened_at + self.reset_timeout

    # -- admission and verdicts ------------------------------------------------

    def admit(self) -> Permit:
        """
        Admit one call, or refuse it at once.

        Returns:
            A `Permit` to hand back to `record` exactly once.

        Raises:
            CircuitOpenError: The breaker is open, or half-open with its probe out.
        """
        # The hot path takes no lock. The generation is read before the state, and a
        # transition writes the state before bumping the generation, so a racing
        # read can only produce a permit of an older generation: ignored later.
        generation = self._generation
        state = self._state
        if state == "closed":
            return Permit(self, generation, False)
        try:
            with self._lock:
                state = self._state
                if state == "closed":
                    return Permit(self, self._generation, False)
                if state == "open":
                    left = self._reopen_at() - self._clock.monotonic()
                    if left > 0:
                        raise CircuitOpenError(self.provider, retry_in=left)
                    self._cb.half_open()
                elif self._probing:
                    raise CircuitOpenError(self.provider)
                self._probing = True
                return Permit(self, self._generation, True)
        finally:
            if self._pending:
                self._flush()

    def record(self, permit: Permit, outcome: bool | None) -> None:
        """
        Record how an admitted call went; later calls with the same permit are ignored.

        Args:
            permit: From `admit`.
            outcome: True for success, False for a provider failure, ``None`` for
                no verdict (cancelled, refused locally, 429, body closed early).
        """
        if permit.done:
            return
        permit.done = True
        if (
            outcome is True
            and not permit.probe
            and not self._counted
            and permit.generation == self._generation
        ):
            return  # a success while closed with no failure to reset: nothing to do
        with self._lock:
            if permit.generation != self._generation:
                return
            if permit.probe:
                self._probing = False
            if outcome is True:
                self._success()
            elif outcome is False:
                self._failure()
        if self._pending:
            self._flush()

    def report_failure(self) -> None:
        """
        Count a failure seen outside an attempt (e.g. a stream the client found broken).
        """
        with self._lock:
            if self._state != "open":
                self._failure()
        if self._pending:
            self._flush()

    def report_success(self) -> None:
        """
        Count a success seen outside an attempt (e.g. a stream that ended well).
        """
        with self._lock:
            if self._state != "open":
                self._success()
        if self._pending:
            self._flush()

    def _success(self) -> None:
        if self._state == "closed" and not self._counted:
            return  # nothing to reset: skip pybreaker on the hot path
        self._cb.call(_succeed)
        self._counted = False

    def _failure(self) -> None:
        self._counted = True
        with contextlib.suppress(_ProviderFailure):
            self._cb.call(_fail)

    # -- transitions (from pybreaker's listener, under our lock) ----------------

    def _transition(self, old: str | None, new: str) -> None:
        new_state = _STATES[new]
        old_state = self._state
        self._state = new_state
        self._generation += 1
        self._probing = False
        if new_state == "open":
            self._opened_at = self._clock.monotonic()
        self._pending.append(BreakerTransition(self.provider, old_state, new_state))

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for transition in pending:
            self._hooks.breaker(transition)

    def __repr__(self) -> str:
        return (
            f"<CircuitBreaker provider={self.provider!r} state={self.state}"
            f" fail_max={self.fail_max} reset_timeout={self.reset_timeout}>"
        )


def _make_listener(breaker: CircuitBreaker, base: type[Any]) -> Any:
    """A pybreaker listener that forwards state changes to ``breaker``."""

    class Listener(base):  # type: ignore[misc]
        def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
            old = None if old_state is None else old_state.name
            breaker._transition(old, new_state.name)

    return Listener()


def _exception_verdict(exc: BaseException, extensions: dict[str, Any]) -> bool | None:
    if not extensions.get(EXT_SENT):
        return None  # refused before any I/O: the deadline, a limit
    if isinstance(exc, APIConnectionError):
        return False
    return None  # cancellation, or something that is not the provider's doing


class CircuitBreakerTransport(Layer):
    """
    Admits each attempt through the provider's `CircuitBreaker` and records its verdict.

    Args:
        inner: The transport below (rate limit, bulkhead, attempt, pool).
        breaker: The provider's breaker, shared with the client's other stacks.
    """

    def __init__(
        self, inner: AsyncTransport | SyncTransport, *, breaker: CircuitBreaker
    ) -> None:
        super().__init__(inner)
        self.breaker = breaker

    def _settle(self, permit: Permit, response: httpx2.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            observe(response, permit)  # judged when its body ends
        else:
            self.breaker.record(permit, breaker_verdict(status))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` if the breaker admits it.

        Raises:
            CircuitOpenError: Refused with no network I/O.
        """
        permit = self.breaker.admit()
        ext = request.extensions
        ext[EXT_SENT] = False
        try:
            response = await self._ainner.handle_async_request(request)
        except BaseException as exc:
            self.breaker.record(permit, _exception_verdict(exc, ext))
            raise
        self._settle(permit, response)
        return response

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` if the breaker admits it.

        Raises:
            CircuitOpenError: Refused with no network I/O.
        """
        permit = self.breaker.admit()
        ext = request.extensions
        ext[EXT_SENT] = False
        try:
            response = self._sinner.handle_request(request)
        except BaseException as exc:
            self.breaker.record(permit, _exception_verdict(exc, ext))
            raise
        self._settle(permit, response)
        return response

    def __repr__(self) -> str:
        b = self.breaker
        return (
            f"<CircuitBreakerTransport provider={b.provider!r} fail_max={b.fail_max}"
            f" reset_timeout={b.reset_timeout}>"
        )
