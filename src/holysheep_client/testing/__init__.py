"""
Test helpers: a fake provider (in-process and on loopback), `FakeClock`, `no_backoff()`.
"""

from __future__ import annotations

from ._clock import FakeClock

__all__ = ["FakeClock"]
