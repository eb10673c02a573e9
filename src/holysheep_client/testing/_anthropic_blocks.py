"""
Anthropic content-block pieces checked the way the real API (pydantic) does:
tags, extra fields, strings, ``cache_control``, image and document sources.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ._plan import WireError, sniff_image

__all__ = [
    "IMAGE_MEDIA_TYPES",
    "CacheTally",
    "check_cache_control",
    "check_extra",
    "document",
    "fail",
    "image_source",
    "literal",
    "string_field",
    "tag",
]

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def fail(path: str, message: str) -> NoReturn:
    """Raise the API's 400 for ``path``: ``"{path}: {message}"``."""
    raise WireError(400, f"{path}: {message}")


def literal(values: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: how pydantic lists the allowed literals."""
    quoted = [f"'{v}'" for v in values]
    return (
        quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    )


def check_extra(
    obj: Mapping[str, Any], allowed: frozenset[str] | set[str], path: str
) -> None:
    """Refuse a key outside ``allowed``: ``Extra inputs are not permitted``."""
    for key in obj:
        if key not in allowed:
            fail(
                f"{path}.{key}" if path else str(key), "Extra inputs are not permitted"
            )


def tag(block: Any, tags: Sequence[str], path: str) -> str:
    if not isinstance(block, Mapping):
        fail(
            path, "Input should be a valid dictionary or object to extract fields from"
        )
    kind = block.get("type")
    if kind is None:
        fail(path, "Unable to extract tag using discriminator 'type'")
    if kind not in tags:
        expected = ", ".join(f"'{t}'" for t in tags)
        fail(
            path,
            f"Input tag '{kind}' found using 'type' does not match any of the"
            f" expected tags: {expected}",
        )
    return str(kind)


def string_field(
    obj: Mapping[str, Any], key: str, path: str, *, required: bool = True
) -> str:
    if key not in obj:
        if required:
            fail(f"{path}.{key}", "Field required")
        return ""
    value = obj[key]
    if not isinstance(value, str):
        fail(f"{path}.{key}", "Input should be a valid string")
    return value


@dataclass(slots=True)
class CacheTally:
    """Counts ``cache_control`` breakpoints across a request (at most 4)."""

    count: int = 0


def check_cache_control(value: Any, path: str, tally: CacheTally) -> None:
    """
    Check one ``cache_control`` value (``{"type": "ephemeral", "ttl"?: "5m"|"1h"}``).
    """
    if value is None:
        return
    tag(value, ("ephemeral",), path)
    check_extra(value, {"type", "ttl"}, f"{path}.ephemeral")
    if "ttl" in value and value["ttl"] not in ("5m", "1h"):
        fail(f"{path}.ephemeral.ttl", "Input should be '5m' or '1h'")
    tally.count += 1


def image_source(source: Any, path: str) -> None:
    if source is None:
        fail(path, "Field required")
    kind = tag(source, ("base64", "url", "file"), path)
    if kind == "url":
        check_extra(source, {"type", "url"}, f"{path}.url")
        url = string_field(source, "url", f"{path}.url")
        if not url.startswith(("https://", "http://")):
            fail(f"{path}.url.url", "Only HTTP and HTTPS URLs are supported")
        return
    if kind == "file":
        check_extra(source, {"type", "file_id"}, f"{path}.file")
        string_field(source, "file_id", f"{path}.file")
        return
    check_extra(source, {"type", "media_type", "data"}, f"{path}.base64")
    media = string_field(source, "media_type", f"{path}.base64")
    if media not in IMAGE_MEDIA_TYPES:
        fail(
            f"{path}.base64.media_type", f"Input should be {literal(IMAGE_MEDIA_TYPES)}"
        )
    data = string_field(source, "data", f"{path}.base64")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        fail(f"{path}.base64.data", "The image data is not valid base64.")
    found = sniff_image(raw)
    if found is None:
        fail(f"{path}.base64.data", "Could not process image")
    if found != media:
        fail(
            f"{path}.base64.data",
            f"Image does not match the provided media type {media}",
        )


def document(block: Mapping[str, Any], path: str) -> None:
    kind = tag(
        block.get("source"),
        ("base64", "text", "content", "url", "file"),
        f"{path}.source",
    )
    if kind == "base64" and block["source"].get("media_type") != "application/pdf":
        fail(f"{path}.source.base64.media_type", "Input should be 'application/pdf'")
