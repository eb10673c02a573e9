"""
Test helpers: a strict fake provider (in-process and on loopback), `FakeClock`,
`no_backoff()`, and the script API (`FakeChat`, `FakeReply`, `tool_loop`,
`json_answer`) that makes the fake a tool-using, JSON-answering, thinking model.
"""

from __future__ import annotations

from .._resilience.retry import no_backoff
from ._chat import FakeChat, FakeMessage, FakeTool, FakeToolCall, FakeToolResult
from ._clock import FakeClock
from ._faults import Fault, FaultKind, FaultPlan
from ._process import FakeServer
from ._provider import (
    DEFAULT_API_KEY,
    DEFAULT_MODELS,
    DEFAULT_REPLY,
    FakeProvider,
    ReplyFn,
)
from ._ready_scripts import json_answer, tool_loop
from ._records import RecordedRequest
from ._schema import schema_example
from ._script import FakeReply, Script, ScriptFn, SpecScript, StopReason
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
    "FakeAsyncTransport",
    "FakeChat",
    "FakeClock",
    "FakeHttpxAsyncTransport",
    "FakeHttpxSyncTransport",
    "FakeMessage",
    "FakeProvider",
    "FakeReply",
    "FakeServer",
    "FakeSyncTransport",
    "FakeTool",
    "FakeToolCall",
    "FakeToolResult",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RecordedRequest",
    "ReplyFn",
    "Script",
    "ScriptFn",
    "SpecScript",
    "StopReason",
    "json_answer",
    "no_backoff",
    "schema_example",
    "tool_loop",
]
