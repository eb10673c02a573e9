"""
SystemClock: the only place in the package that reads time or sleeps.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

__all__ = ["SYSTEM_CLOCK", "SystemClock"]


class SystemClock:
    """
    The real clock: `time.monotonic`, UTC `datetime.now`, and real sleeps.
    """

    #: `time.monotonic` itself: the stack reads it a few times per request, and a
    #: method around it would add a Python call to each read.
    monotonic = staticmethod(time.monotonic)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "<SystemClock>"


SYSTEM_CLOCK = SystemClock()
