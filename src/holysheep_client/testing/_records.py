"""
The fake provider's request log entries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["RecordedRequest", "sanitize_headers"]

_SECRET_PARTS = ("key", "auth", "token", "secret", "cookie", "signature")


def sanitize_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """
    Lower-cased request headers without any that could carry a credential.

    Args:
        headers: The request headers.

    Returns:
        The headers whose names contain none of ``key``, ``auth``, ``token``,
        ``secret``, ``cookie`` or ``signature``.
    """
    return {
        k.lower(): v
        for k, v in headers.items()
        if not any(p in k.lower() for p in _SECRET_PARTS)
    }


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """
    One request the fake provider received; it never holds the API key.

    Attributes:
        method: The HTTP method.
        path: The URL path, e.g. ``/v1/messages``.
        protocol: ``"anthropic"`` or ``"openai"``: the wire format answered in.
        endpoint: ``"chat"``, ``"count"`` (``/messages/count_tokens``),
            ``"models"``, or ``"other"`` for an unknown path.
        model: The requested model id, when the body named one.
        stream: Whether the request asked for a stream.
        body: The decoded JSON body, or ``None`` (no body, or invalid JSON).
        auth: The credential header sent: ``"x-api-key"``, ``"bearer"`` or ``None``.
        key_valid: Whether the key sent matched the provider's.
        status: The status answered (0 for a dropped connection).
        fault: The kind of the fault applied, or ``None``.
        headers: The request headers without credential-bearing ones.
    """

    method: str
    path: str
    protocol: Literal["anthropic", "openai"]
    endpoint: Literal["chat", "count", "models", "other"]
    model: str | None
    stream: bool
    body: Any
    auth: Literal["x-api-key", "bearer"] | None
    key_valid: bool
    status: int
    fault: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """
        The entry as JSON-ready data (the admin API's ``/_fake/requests`` shape).
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedRequest:
        """
        Rebuild an entry from `to_dict` output.

        Args:
            data: The mapping; unknown keys are ignored so newer servers stay readable.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
