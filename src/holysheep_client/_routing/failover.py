"""
The failover plan: one call's providers, in order, and what each failure means.

The sync and async clients, their streams and their hedging races all walk a call's
providers the same way; this module holds that walk's decisions (no I/O), so their
loops stay thin:

```python
walk = FailoverPlan(plan, spec, deadline=deadline, policy=policy, clock=clock,
                    hooks=hooks, on_failure=count_error)
while (name := walk.next()) is not None:
    try:
        return await hop(name, walk.spec)
    except HolySheepError as err:
        walk.failed(name, err)
raise walk.final_error()
```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from .._observe.details import RouteDecision
from .._observe.dispatch import HookDispatcher
from .._protocols import ChatRequestSpec
from .._types import Clock
from ..errors import (
    AllProvidersFailedError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ContextLengthError,
    HolySheepError,
    NotFoundError,
    OutputValidationError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    from .._config import ClientConfig

__all__ = ["FailoverPlan", "FailoverPolicy", "Verdict", "final_error", "verdict"]

Verdict = Literal["failover", "raise", "context_fallback"]


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    """
    What a client's failures mean, fixed by its configuration.

    Attributes:
        context_fallbacks: Model alias -> the larger alias to try on a context-length
            error.
        retry_on_status: Statuses that are a provider's failure (fail over).
        models: Provider name -> the aliases its ``models`` map names.
        total: ``timeout.total``, for the message of an expired deadline.
        max_attempts: Tries per provider of a hop whose answer came but was unusable
            (`OutputValidationError`): the retry layer cannot see those.
    """

    context_fallbacks: Mapping[str, str] = field(default_factory=dict)
    retry_on_status: frozenset[int] = frozenset()
    models: Mapping[str, frozenset[str]] = field(default_factory=dict)
    total: float | None = None
    max_attempts: int = 1

    @classmethod
    def from_config(cls, config: ClientConfig) -> FailoverPolicy:
        """
        The policy of a client built from ``config``.
        """
        return cls(
            context_fallbacks=dict(config.context_fallbacks),
            retry_on_status=frozenset(config.retry.retry_on_status),
            models={p.name: frozenset(p.models) for p in config.providers},
            total=config.timeout.total,
            max_attempts=config.retry.max_attempts,
        )

    def timeout_error(self, provider: str | None) -> APITimeoutError:
        """
        The error for a call whose deadline expired.
        """
        return APITimeoutError(
            f"the call's total deadline of {self.total}s expired", provider=provider
        )

    def fallback_plan(self, alias: str, plan: Sequence[str]) -> list[str]:
        """
        The providers to try a context-length fallback alias on, in ``plan`` order.

        Those whose ``models`` map names the alias; all of them when none does.
        """
        naming = [n for n in plan if alias in self.models.get(n, ())]
        return naming or list(plan)


def verdict(
    error: BaseException, requested_model: str, policy: FailoverPolicy
) -> Verdict:
    """
    What a failed hop means for the call: fail over, raise, or try a larger model.

    Decided from the error's class and status only, never from its message.
    """
    if isinstance(error, ContextLengthError):
        fallback = requested_model in policy.context_fallbacks
        return "context_fallback" if fallback else "raise"
    if isinstance(error, BadRequestError | NotFoundError):
        return "raise"
    if isinstance(
        error,
        APIConnectionError
        | OutputValidationError
        | CircuitOpenError
        | AuthenticationError
        | PermissionDeniedError
        | RateLimitError
        | ServerError,
    ):
        return "failover"
    if isinstance(error, APIError) and error.status_code in policy.retry_on_status:
        return "failover"
    if isinstance(error, APIError) and _answered(error):
        return "failover"  # a 2xx that is no usable answer: the provider's fault
    return "raise"


def _answered(error: APIError) -> bool:
    return error.status_code is not None and 200 <= error.status_code < 300


def final_error(errors: Sequence[BaseException]) -> BaseException:
    """
    One provider tried: its own error; two or more: `AllProvidersFailedError`.
    """
    if len(errors) == 1:
        return errors[0]
    return AllProvidersFailedError(errors)


class FailoverPlan:
    """
    Walks one call's providers: failover order, the deadline, context fallbacks.

    Args:
        plan: The providers in order, the primary first.
        spec: The request; `spec` changes when a context fallback applies.
        deadline: The call's absolute deadline, or ``None``.
        policy: The client's `FailoverPolicy`.
        clock: The clock of ``deadline``.
        hooks: Receives a `RouteDecision` per failover, hedge or fallback.
        on_failure: Called with the provider's name for every failed hop.
        max_attempts: This call's tries per provider for an unusable 2xx answer
            (the policy's when ``None``).
    """

    __slots__ = (
        "_clock",
        "_deadline",
        "_fallback_used",
        "_faults",
        "_hooks",
        "_i",
        "_max_attempts",
        "_names",
        "_on_failure",
        "_plan",
        "errors",
        "policy",
        "spec",
    )

    def __init__(
        self,
        plan: Sequence[str],
        spec: ChatRequestSpec,
        *,
        deadline: float | None,
        policy: FailoverPolicy,
        clock: Clock,
        hooks: HookDispatcher,
        on_failure: Callable[[str], None],
        max_attempts: int | None = None,
    ) -> None:
        self._plan = list(plan)
        self._max_attempts = max_attempts or policy.max_attempts
        self._names = list(plan)
        self._i = 0
        self._deadline = deadline
        self._fallback_used = False
        self._faults: dict[str, int] = {}
        self._clock = clock
        self._hooks = hooks
        self._on_failure = on_failure
        self.policy = policy
        self.spec = spec
        self.errors: list[BaseException] = []

    def expired(self) -> bool:
        """
        True once the call's deadline has passed.
        """
        d = self._deadline
        return d is not None and self._clock.monotonic() >= d

    def next(self, reason: str = "failover") -> str | None:
        """
        The next provider to try, or ``None`` when none is left.

        Args:
            reason: Why it is tried, when it is not the primary (``"failover"`` or
                ``"hedge"``), for the `RouteDecision`.

        Raises:
            APITimeoutError: The call's deadline has passed.
        """
        if self._i >= len(self._names):
            return None
        name = self._names[self._i]
        self._i += 1
        if self.expired():
            raise self.policy.timeout_error(name)
        if reason == "hedge" or self.errors:
            last = type(self.errors[-1]).__name__ if self.errors else None
            hop = len(self.errors) if reason == "failover" else self._i - 1
            self._hooks.route(RouteDecision(name, hop, reason, last))
        return name

    def remaining(self) -> list[str]:
        """
        The providers not tried yet, in order (the candidates for a hedge).
        """
        return self._names[self._i :]

    def failed(self, name: str, error: BaseException) -> None:
        """
        Record that ``name`` failed with ``error``; raise when the call must stop.

        Raises:
            APITimeoutError: The deadline passed during the hop.
            BaseException: ``error`` itself, when it must not fail over (400/404/422,
                a second context-length error, or not one of ours).
        """
        self._on_failure(name)
        if not isinstance(error, HolySheepError):
            raise error
        if isinstance(error, APITimeoutError) and self.expired():
            raise self.policy.timeout_error(name) from error
        what = verdict(error, self.spec.model, self.policy)
        if what == "raise" or (what == "context_fallback" and self._fallback_used):
            raise error
        if isinstance(error, APIError) and _answered(error):
            # A 2xx with no usable answer (malformed, or off the asked schema) is a
            # fault the retry layer cannot see: ask the provider again, then move on.
            tries = self._faults[name] = self._faults.get(name, 0) + 1
            if tries < self._max_attempts:
                self._names.insert(self._i, name)
                return
        self.errors.append(error)
        if what == "context_fallback":
            self._fallback_used = True
            alias = self.policy.context_fallbacks[self.spec.model]
            self.spec = replace(self.spec, model=alias)
            self._names, self._i = self.policy.fallback_plan(alias, self._plan), 0

    def final_error(self) -> BaseException:
        """
        The error once every provider failed (see `final_error`).
        """
        return final_error(self.errors)
