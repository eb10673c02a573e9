"""
Small helpers with no better home.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["has_control_chars", "is_loopback_host", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """
    Seconds from a number or a string such as ``"90s"``, ``"30m"``, ``"24h"``, ``"0h"``.

    Args:
        value: An int/float of seconds, or a string of digits with an optional unit
            (ms, s, m, h, d).

    Returns:
        The duration in seconds, a non-negative float.

    Raises:
        ValueError: The value is not a duration (the message does not echo it).
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration in seconds or a string like '90s'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m is None:
            raise ValueError(
                "expected a duration like '90s', '30m', '24h' or a number of seconds"
            )
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError("expected a duration in seconds or a string like '90s'")
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise ValueError("expected a finite, non-negative duration")
    return seconds


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
