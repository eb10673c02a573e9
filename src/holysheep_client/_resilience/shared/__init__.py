"""
State shared across processes through Redis: breaker, rate limit, the store.
"""

from __future__ import annotations

__all__: list[str] = []
