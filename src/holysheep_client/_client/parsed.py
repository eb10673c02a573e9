"""
A 2xx chat body parsed and judged, the same for a caller's hop and a shadow call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._transports.extensions import EXT_TOKEN_RESERVATION
from .._transports.observed import observed
from ..errors import APIError

if TYPE_CHECKING:
    import httpx2

    from .._content.schemas import OutputFormat
    from .._protocols import ParsedChat, WireProtocol

__all__ = ["parse_judged"]


def parse_judged(
    proto: WireProtocol,
    request: httpx2.Request,
    response: httpx2.Response,
    body: bytes,
    *,
    provider: str,
    request_id: str | None,
    output: OutputFormat | None,
) -> ParsedChat:
    """
    A 2xx chat body parsed, with its verdicts given: a malformed body is the
    provider's failure (for the breaker and bulkhead), and a parsed one settles the
    attempt's token reservation at the reported usage.

    Raises:
        APIError: The body is not a chat answer.
    """
    stream = observed(response)
    try:
        parsed = proto.parse_chat(
            body, provider=provider, request_id=request_id, output=output
        )
    except APIError:
        if stream is not None:
            stream.settle(False)  # a malformed 2xx is the provider's failure
        raise
    reservation = request.extensions.get(EXT_TOKEN_RESERVATION)
    if reservation is not None:
        reservation.settle(parsed.usage.input_tokens + parsed.usage.output_tokens)
    if stream is not None:
        stream.settle(True)
    return parsed
