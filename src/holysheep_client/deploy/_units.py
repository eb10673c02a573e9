"""
Kubernetes quantities ("500m", "4Gi") and Go durations ("10s", "1m30s") as exact numbers.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = [
    "format_cpu",
    "format_memory",
    "parse_duration",
    "parse_quantity",
    "percent_of",
]

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([A-Za-z]*)$")
_SUFFIX = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_GO_DURATION = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {
    "ns": Fraction(1, 10**9),
    "us": Fraction(1, 10**6),
    "µs": Fraction(1, 10**6),
    "ms": Fraction(1, 1000),
    "s": Fraction(1),
    "m": Fraction(60),
    "h": Fraction(3600),
}


def parse_quantity(value: object) -> Fraction:
    """
    A Kubernetes quantity as an exact number (CPU in cores, memory in bytes).

    Raises:
        ValueError: The value is not a quantity.
    """
    if isinstance(value, bool):
        raise ValueError("expected a quantity such as '500m' or '4Gi'")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    m = _QUANTITY.match(str(value).strip())
    if m is None or m.group(3) not in _SUFFIX or (m.group(2) and m.group(3)):
        raise ValueError("expected a quantity such as '500m' or '4Gi'")
    number = Fraction(m.group(1)) * _SUFFIX[m.group(3)]
    if m.group(2):
        number *= Fraction(10) ** int(m.group(2))
    return number


def format_cpu(cores: Fraction) -> str:
    """
    CPU cores rounded up: whole cores when at least one, else millicores.
    """
    if cores >= 1:
        return str(math.ceil(cores))
    return f"{math.ceil(cores * 1000)}m"


def format_memory(size: Fraction) -> str:
    """
    Bytes rounded up to whole GiB (or MiB below one GiB).
    """
    if size >= 2**30:
        return f"{math.ceil(size / 2**30)}Gi"
    return f"{math.ceil(size / 2**20)}Mi"


def percent_of(value: int | str, total: int) -> int:
    """
    An int-or-percent (``maxSurge: 25%``) resolved against ``total``, rounded up.

    Raises:
        ValueError: Neither an integer nor a percentage.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        return math.ceil(int(text[:-1]) * total / 100)
    if text.isdigit():
        return int(text)
    raise ValueError("expected an integer or a percentage such as '25%'")


def parse_duration(text: str) -> Fraction:
    """
    A Go duration (``"300ms"``, ``"1h30m"``, ``"0"``) in seconds, as CEL's ``duration()``.

    Raises:
        ValueError: The text is not a Go duration.
    """
    s = text.strip()
    sign = Fraction(1)
    if s[:1] in "+-" and s:
        sign = Fraction(-1 if s[0] == "-" else 1)
        s = s[1:]
    if s == "0":
        return Fraction(0)
    pos, total = 0, Fraction(0)
    for m in _GO_DURATION.finditer(s):
        if m.start() != pos:
            break
        total += Fraction(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError("expected a Go duration such as '30s' or '1m30s'")
    return sign * total
