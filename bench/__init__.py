"""
Client-side benchmarks against the loopback fake provider; run with ``python -m bench``.

Not part of ``make test``: timings belong here, never in the test suite.
"""

from __future__ import annotations

__all__: list[str] = []
