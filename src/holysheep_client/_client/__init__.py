"""
The clients: the I/O-free base, the sync and async shells, their streams.
"""

from __future__ import annotations

__all__: list[str] = []
