"""
A call's span as the client's `CallScope`: attached while the call's attempts run,
so their spans nest under it; ended once, with the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

if TYPE_CHECKING:
    from .._models import ChatResponse

__all__ = ["CURRENT", "NO_CALL_SPAN", "CallSpan", "NoCallSpan", "message_attribute"]


class CallSpan:
    """
    One call's span and what its attempts need to know (implements `CallScope`).
    """

    __slots__ = (
        "_ctx",
        "capture",
        "failovers",
        "hedged",
        "hops",
        "primary",
        "reasons",
        "span",
    )

    def __init__(self, span: trace.Span, capture: bool) -> None:
        self.span = span
        self.capture = capture
        self._ctx = trace.set_span_in_context(span)
        self.primary: str | None = None
        self.failovers = 0
        self.hedged = False
        self.hops: dict[str, int] = {}
        self.reasons: dict[str, str] = {}

    def attach(self) -> object:
        return otel_context.attach(self._ctx), CURRENT.set(self)

    def detach(self, token: object) -> None:
        assert isinstance(token, tuple)
        CURRENT.reset(token[1])
        otel_context.detach(token[0])

    def end(self, error: BaseException | None, response: ChatResponse | None) -> None:
        span = self.span
        if error is not None and not isinstance(error, GeneratorExit):
            name = type(error).__name__
            span.set_attribute("error.type", name)
            # The class name only: error messages are for people, not attributes.
            span.set_status(Status(StatusCode.ERROR, name))
        if self.capture and response is not None:
            span.set_attribute(
                "gen_ai.output.messages",
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": [{"type": "text", "content": response.text}],
                            "finish_reason": response.stop_reason,
                        }
                    ]
                ),
            )
        span.end()

    @property
    def context(self) -> otel_context.Context:
        return self._ctx


class NoCallSpan:
    """The scope of a call whose span does not record: nothing to do."""

    __slots__ = ()

    def attach(self) -> object:
        return None

    def detach(self, token: object) -> None:
        pass

    def end(self, error: BaseException | None, response: ChatResponse | None) -> None:
        pass


NO_CALL_SPAN: Final = NoCallSpan()
CURRENT: ContextVar[CallSpan | None] = ContextVar("holysheep_otel_call", default=None)


def message_attribute(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content, default=str)
    return {"role": message.get("role"), "parts": [{"type": "text", "content": text}]}
