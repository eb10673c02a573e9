"""
Building the fake's answers: success bodies, streams, protocol errors and faults.

Everything here is pure: a `Responder` turns one parsed request (and the fault
picked for it) into a `ResponsePlan`, with no I/O and no shared state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Literal

from . import _anthropic_wire as anthropic_wire
from . import _openai_wire as openai_wire
from ._answer import build_answer
from ._faults import Fault
from ._plan import (
    ChatRequest,
    Cut,
    Pause,
    ResponsePlan,
    Send,
    Step,
    StreamParts,
    dumps,
)
from ._script import FakeReply

__all__ = [
    "ERROR_MESSAGES",
    "Responder",
    "drip",
    "WireProtocol",
    "retry_headers",
    "stream_steps",
]

WireProtocol = Literal["anthropic", "openai"]

#: The default message of a ``status`` fault, per status.
ERROR_MESSAGES = {
    400: "Bad request.",
    401: "Invalid API key.",
    403: "Permission denied.",
    404: "Not found.",
    408: "Request timeout.",
    409: "Conflict.",
    413: "Request too large.",
    429: "Rate limit exceeded; please retry later.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
    529: "Overloaded",
}
_BAD_KEY = {"anthropic": "invalid x-api-key", "openai": "Invalid API key."}
_CONTEXT = {
    "anthropic": ("prompt is too long: {n} tokens > 200000 maximum", 200000, None),
    "openai": (
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in {n} tokens. Please reduce the length of the messages.",
        128000,
        "context_length_exceeded",
    ),
}
_POLICY = {
    "anthropic": ("Output blocked by content filtering policy", None),
    "openai": (
        "Your request was rejected as a result of our safety system. Your prompt may "
        "contain text that is not allowed by our safety system.",
        "content_policy_violation",
    ),
}
_PREFILL = (
    "This model does not support assistant message prefill. "
    "The conversation must end with a user message."
)
_MID_STREAM = ("slow_first_token", "cut", "stall", "malformed_sse", "stream_error")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def retry_headers(fault: Fault, now: datetime) -> list[tuple[str, str]]:
    """
    The ``Retry-After``, ``retry-after-ms`` and ``x-should-retry`` headers of a fault.

    Args:
        fault: The fault answering the request.
        now: The current time, for ``retry_after_date``.
    """
    out: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        ra = fault.retry_after
        out.append(("retry-after", ra if isinstance(ra, str) else _num(ra)))
    elif fault.retry_after_date is not None:
        when = now.astimezone(UTC) + timedelta(seconds=fault.retry_after_date)
        if when.microsecond:  # round up: an HTTP-date has whole seconds
            when = when.replace(microsecond=0) + timedelta(seconds=1)
        out.append(("retry-after", format_datetime(when, usegmt=True)))
    if fault.retry_after_ms is not None:
        out.append(("retry-after-ms", _num(fault.retry_after_ms)))
    if fault.should_retry is not None:
        out.append(("x-should-retry", "true" if fault.should_retry else "false"))
    return out


def stream_steps(parts: StreamParts, fault: Fault | None) -> list[Step]:
    """
    Play ``parts``, with a mid-stream fault (if any) at its place.

    Args:
        parts: The stream's events.
        fault: The fault picked for the request.
    """
    n = fault.after_chunks if fault else 0
    head: list[Step] = [Send(b) for b in parts.preamble]
    deltas: list[Step] = [Send(b) for b in parts.deltas]
    finish: list[Step] = [Send(b) for b in parts.finish]
    end: list[Step] = [Send(b) for b in parts.end]
    if fault is None or fault.kind not in (*_MID_STREAM, "no_done"):
        return head + deltas + finish + end
    if fault.kind == "slow_first_token":
        return [*head, Pause(fault.delay), *deltas, *finish, *end]
    if fault.kind == "cut":
        return [*head, *deltas[:n], Cut()]
    if fault.kind == "stall":
        return [*head, *deltas[:n], Pause(fault.delay), *deltas[n:], *finish, *end]
    if fault.kind == "malformed_sse":
        return [*head, *deltas[:n], Send(parts.garbage), *deltas[n:], *finish, *end]
    if fault.kind == "stream_error":
        return [*head, *deltas[:n], Send(parts.error)]
    return [*head, *deltas, *(finish if fault.with_finish_reason else [])]


@dataclass(frozen=True, slots=True)
class Responder:
    """
    Builds the answers to one request.

    Args:
        protocol: The wire format to answer in.
        seq: The request's sequence number (ids are derived from it).
        now: The current time (``created`` fields, HTTP-dates).
    """

    protocol: WireProtocol
    seq: int
    now: datetime

    @property
    def object_id(self) -> str:
        """
        The message or completion id.
        """
        if self.protocol == "anthropic":
            return f"msg_fake{self.seq:012d}"
        return f"chatcmpl-fake{self.seq:012d}"

    @property
    def request_id(self) -> str:
        """
        The value of the ``request-id`` / ``x-request-id`` header.
        """
        return f"req_fake{self.seq:012d}"

    def headers(self, content_type: str) -> list[tuple[str, str]]:
        """
        The content type and the request-id header.
        """
        name = "request-id" if self.protocol == "anthropic" else "x-request-id"
        return [("content-type", content_type), (name, self.request_id)]

    def error(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        fault: Fault | None = None,
    ) -> ResponsePlan:
        """
        An error answer in the protocol's shape (with a fault's retry headers).
        """
        if self.protocol == "anthropic":
            obj = anthropic_wire.error_body(status, message, self.request_id)
        else:
            obj = openai_wire.error_body(status, message, code=code, param=param)
        data = dumps(obj)
        headers = self.headers("application/json")
        if fault is not None:
            headers += retry_headers(fault, self.now)
        return ResponsePlan(status, headers, [Send(data)], content_length=len(data))

    def bad_key(self, message: str | None = None) -> ResponsePlan:
        """
        The 401 for a missing or wrong key.
        """
        return self.error(401, message or _BAD_KEY[self.protocol])

    def fault(self, chat: ChatRequest | None, fault: Fault) -> ResponsePlan | None:
        """
        The answer of a fault that replaces the response; ``None`` for others.
        """
        msg = fault.message
        if fault.kind == "drop":
            return ResponsePlan(0, [], drop=True)
        if fault.kind == "status":
            assert fault.status is not None
            default = ERROR_MESSAGES.get(fault.status, f"Error {fault.status}.")
            return self.error(fault.status, msg or default, fault=fault)
        if fault.kind == "bad_key":
            return self.error(401, msg or _BAD_KEY[self.protocol], fault=fault)
        if fault.kind == "context_length":
            template, limit, code = _CONTEXT[self.protocol]
            text = msg or template.format(
                n=limit + 1 + (chat.prompt_words if chat else 0)
            )
            return self.error(400, text, code=code, param="messages", fault=fault)
        if fault.kind == "content_policy":
            text, code = _POLICY[self.protocol]
            return self.error(
                400, msg or text, code=code, param="messages", fault=fault
            )
        if fault.kind == "reject_prefill":
            return self.error(400, msg or _PREFILL, param="messages", fault=fault)
        return None

    def chat(
        self, chat: ChatRequest, reply: str | FakeReply, model: str, fault: Fault | None
    ) -> ResponsePlan:
        """
        A chat answer: ``reply`` continued after the prefill, chunked and truncated.

        Args:
            chat: The parsed request.
            reply: The reply text, or a scripted `FakeReply`.
            model: The model id to report.
            fault: The fault picked for the request (body faults apply here).
        """
        answer = build_answer(chat, reply, self.seq)
        created = int(self.now.timestamp())
        if not chat.stream:
            if self.protocol == "anthropic":
                obj = anthropic_wire.message_body(
                    msg_id=self.object_id, model=model, answer=answer
                )
            else:
                obj = openai_wire.completion_body(
                    cmpl_id=self.object_id, created=created, model=model, answer=answer
                )
            return self.body(dumps(obj), fault)
        if self.protocol == "anthropic":
            parts = anthropic_wire.stream_parts(
                msg_id=self.object_id, model=model, answer=answer,
                request_id=self.request_id,
            )  # fmt: skip
        else:
            parts = openai_wire.stream_parts(
                cmpl_id=self.object_id, created=created, model=model, answer=answer,
                include_usage=chat.include_usage,
            )  # fmt: skip
        headers = self.headers("text/event-stream; charset=utf-8")
        headers.append(("cache-control", "no-cache"))
        return ResponsePlan(200, headers, stream_steps(parts, fault), streaming=True)

    def body(self, data: bytes, fault: Fault | None) -> ResponsePlan:
        """
        A 200 JSON answer, cut, stalled or truncated by a body fault.
        """
        kind = fault.kind if fault else None
        half = len(data) // 2
        steps: list[Step] = [Send(data)]
        if kind == "cut":
            steps = [Send(data[:half]), Cut()]
        elif kind == "stall" and fault is not None:
            steps = [Send(data[:half]), Pause(fault.delay), Send(data[half:])]
        elif kind == "malformed_json":
            data = data[:half]
            steps = [Send(data)]
        headers = self.headers("application/json")
        return ResponsePlan(200, headers, steps, content_length=len(data))

    def models(self, path: str, models: list[str], fault: Fault | None) -> ResponsePlan:
        """
        The ``/models`` list, or one ``/models/{id}`` entry.
        """
        wire = anthropic_wire if self.protocol == "anthropic" else openai_wire
        if path.endswith("/models"):
            return self.body(dumps(wire.models_body(models)), fault)
        model_id = path.rsplit("/models/", 1)[1]
        if model_id not in models:
            return self.error(404, f"model: {model_id}", code="model_not_found")
        return self.body(dumps(wire.model_body(model_id)), fault)


def drip(plan: ResponsePlan, fault: Fault) -> ResponsePlan:
    """
    ``plan`` sent slowly by a ``drip`` fault: its headers, or its body byte by byte.
    """
    if fault.drip == "headers":
        plan.drip_head = fault.rate
        return plan
    gap = 1.0 / fault.rate
    steps: list[Step] = []
    for step in plan.steps:
        if not isinstance(step, Send):
            steps.append(step)
            continue
        for i in range(len(step.data)):
            steps += [Send(step.data[i : i + 1]), Pause(gap)]
    plan.steps = steps
    return plan
