"""
One conversation model for both protocols: blocks, normalisation, tools, structured
output, stream events and the request the wire adapters encode.
"""

from __future__ import annotations

__all__: list[str] = []
