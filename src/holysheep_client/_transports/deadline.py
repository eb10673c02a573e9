"""
Deadlines at the pool boundary.
"""

from __future__ import annotations

from ..errors import APITimeoutError

__all__ = ["deadline_error"]


def deadline_error(provider: str | None) -> APITimeoutError:
    """
    The error for a call whose deadline passed.
    """
    where = f" calling provider {provider!r}" if provider else ""
    return APITimeoutError(
        f"the call's total deadline passed{where}", provider=provider
    )
