"""
FakeProvider: a deterministic LLM provider speaking the Anthropic and OpenAI formats.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .._clock import SYSTEM_CLOCK
from .._types import Clock
from ._count import count_input_tokens, endpoint_of, json_or_none
from ._faults import Fault, FaultPlan, MatchContext
from ._intake import check_auth, parse_chat
from ._plan import ChatRequest, ResponsePlan, WireError
from ._records import RecordedRequest, sanitize_headers
from ._responses import Responder, drip
from ._script import DEFAULT_REPLY, FakeReply, Script, default_answer

if TYPE_CHECKING:
    from ._transport import (
        FakeAsyncTransport,
        FakeHttpxAsyncTransport,
        FakeHttpxSyncTransport,
        FakeSyncTransport,
    )

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MODELS",
    "DEFAULT_REPLY",
    "FakeProvider",
    "ReplyFn",
]

#: Computes the reply text from the decoded request body.
ReplyFn = Callable[[Mapping[str, Any]], str]

DEFAULT_API_KEY = "test-key"
DEFAULT_MODELS: tuple[str, ...] = ("claude-sonnet-4-5", "deepseek-v3.2", "gpt-4.1")
_BODY_WAIT_KINDS = ("slow_first_token", "stall")


class FakeProvider:
    """
    A fake LLM provider: deterministic replies, both wire formats, injectable faults.

    Requests to ``.../messages`` (and ``.../messages/count_tokens``) get Anthropic
    answers, ``.../chat/completions`` OpenAI ones; ``.../models`` answers in
    Anthropic's shape when the request has an ``x-api-key`` or
    ``anthropic-version`` header. Bodies are validated as the real APIs do
    (unknown fields, messages, tool pairing, tools, images, schemas) and refused
    with that API's 400. The answer is ``script(chat)`` when a script is given (a
    `FakeReply`: tool calls, thinking, JSON, cache usage), else ``reply`` (or
    ``reply(body)``), or a tool call or JSON value built from the schema when the
    request forces a tool or asks for one. Text is split into word chunks: one
    output token and one stream delta each. ``/messages`` takes ``x-api-key`` or
    a bearer token and needs ``anthropic-version``. State is shared by every
    request under a lock; ``reply``, ``script``, ``images``, ``count_tokens``,
    ``models``, ``model_map`` and ``latency`` may be changed at any time.

    Args:
        api_key: The key requests must carry; ``None`` accepts any non-empty key.
        reply: The reply text, or a function of the decoded request body.
        script: A function of the request's `FakeChat` returning the answer
            (text or a `FakeReply`), or one fixed `FakeReply`; used instead of
            ``reply`` when given. See `tool_loop` and `json_answer`.
        images: Whether the model takes images; ``False`` refuses any image
            with the 400 a text-only model (DeepSeek's) gives.
        count_tokens: Whether ``/messages/count_tokens`` exists (``False``: 404,
            as on a relay without it).
        models: The model ids ``/models`` lists (requests may name any model).
        model_map: Requested model id -> the id reported back.
        faults: The initial fault plan, in priority order.
        seed: Seed for probabilistic faults.
        latency: Seconds added before every response's headers.
        clock: Source of time and sleeps (`FakeClock` for virtual time).
        max_log: How many recent requests `requests` keeps.
    """

    #: A loopback base URL for clients of the in-process transports (any host works).
    url = "http://fake.localhost/v1"
    #: The same without ``/v1``: the anthropic SDK's ``base_url`` (it adds ``/v1``).
    origin = "http://fake.localhost"

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        reply: str | ReplyFn = DEFAULT_REPLY,
        script: Script | None = None,
        images: bool = True,
        count_tokens: bool = True,
        models: Sequence[str] = DEFAULT_MODELS,
        model_map: Mapping[str, str] | None = None,
        faults: Iterable[Fault] = (),
        seed: int = 0,
        latency: float = 0.0,
        clock: Clock | None = None,
        max_log: int = 10_000,
    ) -> None:
        self._api_key = api_key
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._initial = (
            reply,
            script,
            images,
            count_tokens,
            tuple(models),
            dict(model_map or {}),
            latency,
            tuple(faults),
            seed,
        )
        self._lock = threading.Lock()
        self._log: deque[RecordedRequest] = deque(maxlen=max_log)
        self.fault_plan = FaultPlan(seed=seed)
        self._in_flight = 0
        self.reset()

    # -- configuration -------------------------------------------------------------

    def reset(self) -> None:
        """
        Restore the start-up configuration and clear the request log and counters.
        """
        reply, script, images, count, models, model_map, latency, faults, seed = (
            self._initial
        )
        self.reply: str | ReplyFn = reply
        self.script: Script | None = script
        self.images: bool = images
        self.count_tokens: bool = count
        self.models: list[str] = list(models)
        self.model_map: dict[str, str] = dict(model_map)
        self.latency: float = latency
        self.seed = seed
        self.fault_plan.replace(faults, seed=seed)
        with self._lock:
            self._log.clear()
            self._seq = 0
            self._faults_applied = 0
            self._max_in_flight = self._in_flight

    def set_faults(self, faults: Iterable[Fault], *, seed: int | None = None) -> None:
        """
        Replace the fault plan (and re-seed its generator).

        Args:
            faults: The new faults, in priority order; empty for none.
            seed: A new seed for probabilistic faults; ``None`` keeps the current one.
        """
        if seed is not None:
            self.seed = seed
        self.fault_plan.replace(faults, seed=self.seed)

    @property
    def faults(self) -> list[Fault]:
        """
        The current fault plan, in order.
        """
        return self.fault_plan.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """
        The recorded requests, oldest first.
        """
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        """
        Counters since the last reset.

        Returns:
            ``requests``, ``in_flight`` (responses not yet fully read or closed),
            ``max_in_flight``, ``faults_applied``, and ``faults``: each fault's
            ``kind``, ``remaining`` and ``applied`` counts.
        """
        with self._lock:
            out: dict[str, Any] = {
                "requests": self._seq,
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "faults_applied": self._faults_applied,
            }
        out["faults"] = self.fault_plan.summary()
        return out

    def enter_flight(self) -> None:
        """
        Count a response that starts playing (for ``in_flight`` in `stats`).
        """
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def leave_flight(self) -> None:
        """
        Count a response that ended: read, closed or broken.
        """
        with self._lock:
            self._in_flight -= 1

    # -- transports ----------------------------------------------------------------

    @overload
    def async_transport(
        self, *, flavor: Literal["httpx2"] = "httpx2", honour_timeouts: bool = True
    ) -> FakeAsyncTransport: ...

    @overload
    def async_transport(
        self, *, flavor: Literal["httpx"], honour_timeouts: bool = True
    ) -> FakeHttpxAsyncTransport: ...

    def async_transport(
        self,
        *,
        flavor: Literal["httpx2", "httpx"] = "httpx2",
        honour_timeouts: bool = True,
    ) -> FakeAsyncTransport | FakeHttpxAsyncTransport:
        """
        An async transport (httpx's interface) answering from this provider.

        Args:
            flavor: Serve ``httpx2`` clients (default) or plain ``httpx`` ones.
            honour_timeouts: Raise the library's ``ReadTimeout`` when a wait exceeds
                the request's read timeout, as a real connection would.

        Raises:
            ValueError: For an unknown flavor.
        """
        from ._transport import FakeAsyncTransport, FakeHttpxAsyncTransport

        if flavor == "httpx2":
            return FakeAsyncTransport(self, honour_timeouts=honour_timeouts)
        if flavor == "httpx":
            return FakeHttpxAsyncTransport(self, honour_timeouts=honour_timeouts)
        raise ValueError(f"flavor must be 'httpx2' or 'httpx', got {flavor!r}")

    @overload
    def sync_transport(
        self, *, flavor: Literal["httpx2"] = "httpx2", honour_timeouts: bool = True
    ) -> FakeSyncTransport: ...

    @overload
    def sync_transport(
        self, *, flavor: Literal["httpx"], honour_timeouts: bool = True
    ) -> FakeHttpxSyncTransport: ...

    def sync_transport(
        self,
        *,
        flavor: Literal["httpx2", "httpx"] = "httpx2",
        honour_timeouts: bool = True,
    ) -> FakeSyncTransport | FakeHttpxSyncTransport:
        """
        A sync transport (httpx's interface) answering from this provider.

        Args:
            flavor: Serve ``httpx2`` clients (default) or plain ``httpx`` ones.
            honour_timeouts: Raise the library's ``ReadTimeout`` when a wait exceeds
                the request's read timeout, as a real connection would.

        Raises:
            ValueError: For an unknown flavor.
        """
        from ._transport import FakeHttpxSyncTransport, FakeSyncTransport

        if flavor == "httpx2":
            return FakeSyncTransport(self, honour_timeouts=honour_timeouts)
        if flavor == "httpx":
            return FakeHttpxSyncTransport(self, honour_timeouts=honour_timeouts)
        raise ValueError(f"flavor must be 'httpx2' or 'httpx', got {flavor!r}")

    # -- the protocol core ---------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ResponsePlan:
        """
        Decide the answer to one request, record it, and return the plan to play.

        Args:
            method: The HTTP method.
            path: The URL path.
            headers: The request headers (names in any case).
            body: The raw request body.

        Returns:
            The response plan (status, headers, body steps, waits).
        """
        hdrs = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self._seq += 1
            seq = self._seq
        protocol, endpoint = endpoint_of(path, hdrs)
        auth, key_valid = check_auth(hdrs, protocol, self._api_key)
        r = Responder(protocol, seq, self.clock.now())
        parsed = json_or_none(body)
        chat: ChatRequest | None = None
        counted: int | None = None
        fault: Fault | None = None
        try:
            if endpoint == "other":
                raise WireError(404, f"Invalid URL ({method} {path})")
            if method.upper() != ("GET" if endpoint == "models" else "POST"):
                raise WireError(405, f"Method {method} not allowed for {path}")
            if not key_valid:
                plan = r.bad_key()
            else:
                if endpoint == "chat":
                    chat = parse_chat(protocol, hdrs, parsed, images=self.images)
                elif endpoint == "count":
                    counted = count_input_tokens(
                        hdrs, parsed, images=self.images, enabled=self.count_tokens
                    )
                ctx = MatchContext(
                    protocol=protocol,
                    endpoint="chat" if endpoint == "chat" else "models",
                    model=chat.model if chat else None,
                    stream=chat.stream if chat else False,
                    has_prefill=chat is not None and chat.prefill is not None,
                )
                fault = self.fault_plan.pick(ctx)
                plan = self._answer(r, path, chat, fault, counted)
        except WireError as err:
            plan = r.error(err.status, err.message, code=err.code, param=err.param)
        plan.delay += self.latency
        with self._lock:
            self._faults_applied += fault is not None
            self._log.append(
                RecordedRequest(
                    method=method.upper(),
                    path=path,
                    protocol=protocol,
                    endpoint=endpoint,
                    model=chat.model if chat else None,
                    stream=chat.stream if chat else False,
                    body=parsed,
                    auth=auth,
                    key_valid=key_valid,
                    status=0 if plan.drop else plan.status,
                    fault=fault.kind if fault else None,
                    headers=sanitize_headers(hdrs),
                )
            )
        return plan

    def _answer(
        self,
        r: Responder,
        path: str,
        chat: ChatRequest | None,
        fault: Fault | None,
        counted: int | None,
    ) -> ResponsePlan:
        plan = r.fault(chat, fault) if fault else None
        if plan is None and counted is not None:
            plan = r.body(json.dumps({"input_tokens": counted}).encode(), fault)
        if plan is None and chat is not None:
            model = self.model_map.get(chat.model, chat.model)
            plan = r.chat(chat, self._reply_for(chat), model, fault)
        if plan is None:
            plan = r.models(path, self.models, fault)
        if fault is not None and fault.kind not in _BODY_WAIT_KINDS:
            plan.delay += fault.delay
        if fault is not None and fault.kind == "drip":
            plan = drip(plan, fault)
        return plan

    def _reply_for(self, chat: ChatRequest) -> str | FakeReply:
        view = chat.chat
        assert view is not None
        script = self.script
        if isinstance(script, FakeReply):
            return script
        if script is not None:
            return script(view)
        text = self.reply if isinstance(self.reply, str) else self.reply(chat.body)
        return default_answer(view, text)

    def __repr__(self) -> str:
        key = "None" if self._api_key is None else "<set>"
        script = "" if self.script is None else f" script={self.script!r}"
        images = "" if self.images else " images=False"
        images += "" if self.count_tokens else " count_tokens=False"
        return (
            f"<FakeProvider api_key={key} reply={self.reply!r}{script}{images}"
            f" models={len(self.models)} faults={len(self.fault_plan.faults)}"
            f" seed={self.seed} latency={self.latency}>"
        )
