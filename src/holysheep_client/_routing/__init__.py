"""
Routing: the weighted router, migration phases and rollback, the failover plan, hedging.
"""

from __future__ import annotations

__all__: list[str] = []
