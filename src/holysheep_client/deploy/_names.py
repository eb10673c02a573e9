"""
Kubernetes name rules: DNS-1123 labels and subdomains, label keys and values, host
names; each check raises `ConfigError` naming the field, never echoing the value.
"""

from __future__ import annotations

import re

from ..errors import ConfigError

__all__ = [
    "check_host",
    "check_label_key",
    "check_label_value",
    "check_name",
    "dns_label",
    "is_dns_label",
    "is_dns_subdomain",
]

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_QUALIFIED = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def is_dns_label(text: str) -> bool:
    """
    Whether ``text`` is a DNS-1123 label (a-z, 0-9, '-', at most 63).
    """
    return len(text) <= 63 and bool(_LABEL.match(text))


def is_dns_subdomain(text: str) -> bool:
    """
    Whether ``text`` is a DNS-1123 subdomain (labels joined by '.', at most 253).
    """
    return len(text) <= 253 and bool(_SUBDOMAIN.match(text))


def dns_label(text: str) -> str:
    """
    ``text`` as a DNS-1123 label: lower case, other characters turned into ``-``.

    Raises:
        ConfigError: Nothing usable is left.
    """
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not out:
        raise ConfigError("name", "cannot make a DNS-1123 name from it")
    return out[:63].rstrip("-")


def check_name(field: str, value: str) -> str:
    """
    ``value`` if it is a DNS-1123 label.

    Raises:
        ConfigError: It is not.
    """
    if not is_dns_label(value):
        raise ConfigError(
            field, "expected a DNS-1123 label (a-z, 0-9, '-', at most 63)"
        )
    return value


def check_label_key(field: str, key: str) -> str:
    """
    ``key`` if it is a valid label or annotation key: an optional DNS subdomain prefix
    and ``/``, then a name of at most 63 characters.

    Raises:
        ConfigError: It is not.
    """
    prefix, _, name = key.rpartition("/")
    if (prefix and not is_dns_subdomain(prefix)) or not (
        len(name) <= 63 and _QUALIFIED.match(name)
    ):
        raise ConfigError(
            field,
            "expected a key such as 'team' or 'example.com/team' (letters, digits,"
            " '-', '_', '.'; at most 63 after an optional DNS prefix and '/')",
        )
    return key


def check_label_value(field: str, value: str) -> str:
    """
    ``value`` if it is a valid label value (empty, or at most 63 of letters, digits,
    '-', '_', '.', starting and ending with a letter or digit).

    Raises:
        ConfigError: It is not.
    """
    if value and not (len(value) <= 63 and _QUALIFIED.match(value)):
        raise ConfigError(
            field,
            "expected a label value: at most 63 letters, digits, '-', '_' or '.',"
            " starting and ending with a letter or digit",
        )
    return value


def check_host(field: str, host: str) -> str:
    """
    ``host`` if it is a DNS name, optionally with a ``*.`` wildcard prefix.

    Raises:
        ConfigError: It is not.
    """
    name = host.removeprefix("*.")
    if not is_dns_subdomain(name) or "." not in name and host != name:
        raise ConfigError(
            field, "expected a DNS name such as 'api.example.com' or '*.example.com'"
        )
    return host
