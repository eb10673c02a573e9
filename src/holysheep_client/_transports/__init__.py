"""
The bottom layer: the pool transport, the wrapping-transport base, the attempt and
observed stream (the one boundary where HTTP-library errors become ours).
"""

from __future__ import annotations

__all__: list[str] = []
