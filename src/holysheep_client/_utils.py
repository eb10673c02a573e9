"""
Small helpers with no better home.
"""

from __future__ import annotations

import ipaddress
import math
import re

__all__ = ["MAX_DURATION", "has_control_chars", "is_loopback_host", "parse_duration"]

# Applied to a stripped string of bounded length, with one run of spaces
# before the unit: it cannot backtrack more than linearly.
_DURATION = re.compile(r"(\d{1,15}(?:\.\d{1,15})?)\s*(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: The longest duration accepted anywhere: ten years, in seconds.
MAX_DURATION = 10 * 365 * 86400.0
_MAX_TEXT = 40


def parse_duration(value: object) -> float:
    """
    Seconds from a number or a string such as ``"90s"``, ``"30m"``, ``"24h"``, ``"0h"``.

    Runs in time linear in the input, and refuses anything longer than ten years.

    Args:
        value: An int/float of seconds, or a string of digits with an optional unit
            (ms, s, m, h, d).

    Returns:
        The duration in seconds, a non-negative float of at most `MAX_DURATION`.

    Raises:
        ValueError: The value is not a duration (the message does not echo it).
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration in seconds or a string like '90s'")
    if isinstance(value, int):
        # Compared as an int: float() of a 400-digit integer overflows.
        if value > MAX_DURATION:
            raise ValueError(_TOO_LONG)
        seconds = float(value)
    elif isinstance(value, float):
        seconds = value
    elif isinstance(value, str):
        text = value.strip()
        m = _DURATION.fullmatch(text) if len(text) <= _MAX_TEXT else None
        if m is None:
            raise ValueError(
                "expected a duration like '90s', '30m', '24h' or a number of seconds"
            )
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError("expected a duration in seconds or a string like '90s'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("expected a finite, non-negative duration")
    if seconds > MAX_DURATION:
        raise ValueError(_TOO_LONG)
    return seconds


_TOO_LONG = "expected a duration of at most ten years (315360000 seconds)"


def is_loopback_host(host: str) -> bool:
    """
    True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1).
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_control_chars(text: str) -> bool:
    """
    True when ``text`` holds a character that must never go into an HTTP header.
    """
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)
