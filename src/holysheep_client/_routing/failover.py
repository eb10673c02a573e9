"""
FailoverPlan: the providers of one call, in order, and what each failure means.

The sync and async clients and streams all walk a call's providers the same way;
this object holds that walk's decisions (no I/O), so their loops stay thin:

```python
walk = FailoverPlan(core, plan, spec, deadline=deadline)
while (name := walk.next()) is not None:
    try:
        return await hop(name, walk.spec)
    except HolySheepError as err:
        walk.failed(name, err)
raise walk.final_error()
```
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .._observe.details import RouteDecision
from .._protocols import ChatRequestSpec
from ..errors import APITimeoutError, HolySheepError

if TYPE_CHECKING:
    from .._client.base import ClientCore

__all__ = ["FailoverPlan"]


class FailoverPlan:
    """
    Walks one call's providers: failover order, the deadline, context fallbacks.

    Args:
        core: The client's shared logic (router verdicts, counters, hooks).
        plan: The providers in order, the primary first.
        spec: The request; `spec` changes when a context fallback applies.
        deadline: The call's absolute deadline, or ``None``.
    """

    __slots__ = (
        "_core",
        "_deadline",
        "_fallback_used",
        "_i",
        "_names",
        "_plan",
        "_record",
        "errors",
        "spec",
    )

    def __init__(
        self,
        core: ClientCore,
        plan: list[str],
        spec: ChatRequestSpec,
        *,
        deadline: float | None,
    ) -> None:
        self._core = core
        self._plan = plan
        self._names = list(plan)
        self._i = 0
        self._deadline = deadline
        self._fallback_used = False
        self.spec = spec
        self.errors: list[BaseException] = []

    def next(self) -> str | None:
        """
        The next provider to try, or ``None`` when none is left.

        Raises:
            APITimeoutError: The call's deadline has passed.
        """
        if self._i >= len(self._names):
            return None
        name = self._names[self._i]
        self._i += 1
        core = self._core
        if core.expired(self._deadline):
            raise core.timeout_error(name)
        if self.errors:
            core.hooks.route(
                RouteDecision(
                    name, len(self.errors), "failover", type(self.errors[-1]).__name__
                )
            )
        return name

    def remaining(self) -> list[str]:
        """
        The providers not tried yet, in order (the candidates for a hedge).
        """
        return self._names[self._i :]

    def failed(self, name: str, error: HolySheepError) -> None:
        """
        Record that ``name`` failed with ``error``; raise when the call must stop.

        Raises:
            APITimeoutError: The deadline passed during the hop.
            HolySheepError: ``error`` itself, when it must not fail over (400/404/422,
                or a second context-length error).
        """
        core = self._core
        core.count(name, ok=False)
        if isinstance(error, APITimeoutError) and core.expired(self._deadline):
            raise core.timeout_error(name) from error
        verdict = core.verdict(error, self.spec.model)
        if verdict == "raise" or (
            verdict == "context_fallback" and self._fallback_used
        ):
            raise error
        self.errors.append(error)
        if verdict == "context_fallback":
            self._fallback_used = True
            alias = core.config.context_fallbacks[self.spec.model]
            self.spec = replace(self.spec, model=alias)
            self._names, self._i = core.fallback_plan(alias, self._plan), 0

    def final_error(self) -> BaseException:
        """
        The error once every provider failed (see `ClientCore.final_error`).
        """
        return self._core.final_error(self.errors)
