"""
Resilience layers: transports that wrap a transport, assembled by `stack.build_transport_stack`.

Outermost first: deadline, retry (with the client-wide budget), circuit breaker,
rate limit, bulkhead, attempt timeout, then the pool transport. Nothing here is
imported by ``import holysheep_client``; pybreaker, aiolimiter and the HTTP
libraries load when the first stack is built.
"""

from __future__ import annotations

__all__: list[str] = []
