"""
Scrubbing the client's own keys out of whatever a provider sends back.

Some relays answer 401 with ``invalid x-api-key: <the key>``. The client knows every
key it holds, so every provider message, body and text it puts into an error has
them replaced with ``***`` before the error leaves the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "Scrubber"]

MASK = "***"
# A key shorter than this would mask ordinary words; real keys are far longer.
_MIN_KEY = 8


class Scrubber:
    """
    Replaces the given keys with ``***`` in text, nested bodies and errors.

    Args:
        keys: The keys to scrub (short ones are ignored).
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[str]) -> None:
        # Longest first, so a key containing another is masked whole.
        self._keys = sorted(
            {k for k in keys if len(k) >= _MIN_KEY}, key=len, reverse=True
        )

    def text(self, value: str) -> str:
        """
        ``value`` with every key masked.
        """
        for key in self._keys:
            if key in value:
                value = value.replace(key, MASK)
        return value

    def data(self, value: Any, depth: int = 0) -> Any:
        """
        A decoded body (strings, lists, dicts) with every key masked.
        """
        if isinstance(value, str):
            return self.text(value)
        if depth > 32:
            return value
        if isinstance(value, dict):
            return {
                self.data(k, depth + 1): self.data(v, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.data(v, depth + 1) for v in value)
        return value

    def error(self, error: BaseException) -> BaseException:
        """
        ``error`` (and its chained causes) with every key masked, in place.
        """
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            current.args = tuple(self.data(a) for a in current.args)
            for name in ("message", "body", "reason", "raw", "partial_text"):
                if name in vars(current):
                    setattr(current, name, self.data(getattr(current, name)))
            nested = getattr(current, "errors", None)
            if isinstance(nested, list):
                for e in nested:
                    if isinstance(e, BaseException):
                        self.error(e)
            current = current.__cause__ or current.__context__
        return error

    def __repr__(self) -> str:
        return f"<Scrubber keys={len(self._keys)}>"
