"""
Observation: the details hooks receive, the hook protocols, dispatch and the logger.
"""

from __future__ import annotations

__all__: list[str] = []
