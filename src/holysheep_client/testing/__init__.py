"""
Test helpers: a fake provider (in-process and on loopback), `FakeClock`, `no_backoff()`.
"""

from __future__ import annotations

from .._resilience.retry import no_backoff
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
from ._records import RecordedRequest
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
    "FakeClock",
    "FakeHttpxAsyncTransport",
    "FakeHttpxSyncTransport",
    "FakeProvider",
    "FakeServer",
    "FakeSyncTransport",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RecordedRequest",
    "ReplyFn",
    "no_backoff",
]
