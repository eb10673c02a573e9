"""
OpenAI chat content as the real API checks it: content parts by role, image URLs
(data URLs decoded and sniffed), and the API's error wording helpers.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from ._plan import WireError, sniff_image

__all__ = [
    "NAME_PATTERN",
    "Content",
    "bad",
    "content_of",
    "extra",
    "kind_of",
    "supported",
]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
_PARTS = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
}
_PART_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"type", "text", "prompt_cache_breakpoint"}),
    "image_url": frozenset({"type", "image_url", "prompt_cache_breakpoint"}),
    "input_audio": frozenset({"type", "input_audio"}),
    "file": frozenset({"type", "file", "prompt_cache_breakpoint"}),
    "refusal": frozenset({"type", "refusal"}),
}
_DATA_URL = re.compile(
    r"^data:(?P<mime>[^;,]+)(?P<params>(;[^;,]*)*),(?P<data>.*)$", re.S
)
_IMAGE_EXAMPLE = (
    "Expected a base64-encoded data URL with an image MIME type (e.g."
    " 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got"
)
_UNSUPPORTED_IMAGE = (
    "You uploaded an unsupported image. Please make sure your image is below 20 MB in"
    " size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp']."
)


def bad(message: str, param: str | None = None, code: str | None = None) -> NoReturn:
    """Raise OpenAI's 400 (``invalid_request_error``) with ``param`` and ``code``."""
    raise WireError(400, message, param=param, code=code)


def kind_of(value: Any) -> str:
    """How OpenAI names a JSON value's type: ``a string``, ``an object``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def extra(
    obj: Mapping[str, Any], allowed: frozenset[str], where: str, param: str
) -> None:
    for key in obj:
        if key not in allowed:
            bad(
                f"Additional properties are not allowed ('{key}' was unexpected) - '{where}'",
                param,
            )


def _image(part: Mapping[str, Any], path: str) -> None:
    image = part.get("image_url")
    if not isinstance(image, Mapping):
        bad(
            f"Invalid type for '{path}.image_url': expected an object, but got"
            f" {kind_of(image)} instead.",
            f"{path}.image_url",
            "invalid_type",
        )
    extra(image, frozenset({"url", "detail"}), f"{path}.image_url", f"{path}.image_url")
    url = image.get("url")
    param = f"{path}.image_url.url"
    if not isinstance(url, str):
        bad(
            f"Missing required parameter: '{param}'.",
            param,
            "missing_required_parameter",
        )
    detail = image.get("detail")
    if detail is not None and detail not in ("auto", "low", "high", "original"):
        bad(
            f"Invalid value: '{detail}'. Supported values are: 'auto', 'low', 'high', and 'original'.",
            f"{path}.image_url.detail",
            "invalid_value",
        )
    if url.startswith(("https://", "http://")):
        return
    prefix = f"Invalid image URL: '{param}'. {_IMAGE_EXAMPLE}"
    match = _DATA_URL.match(url)
    if match is None:
        bad(f"{prefix} a value without the 'data:' prefix.", param, "invalid_value")
    mime = match["mime"].strip().lower()
    if not mime.startswith("image/"):
        bad(f"{prefix} unsupported MIME type '{mime}'.", param, "invalid_value")
    if ";base64" not in match["params"]:
        bad(f"{prefix} a value that is not base64-encoded.", param, "invalid_value")
    if not match["data"]:
        bad(f"{prefix} empty base64-encoded bytes.", param, "invalid_value")
    try:
        raw = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        bad(f"{prefix} an invalid base64-encoded value.", param, "invalid_value")
    if sniff_image(raw) is None:
        bad(_UNSUPPORTED_IMAGE, None, "invalid_image_format")


@dataclass(slots=True)
class Content:
    text: str = ""
    images: int = 0


def content_of(msg: Mapping[str, Any], i: int, role: str) -> Content:
    content = msg.get("content")
    param = f"messages[{i}].content"
    if content is None:
        if role == "assistant":
            return Content()
        bad(
            f"Missing required parameter: '{param}'.",
            param,
            "missing_required_parameter",
        )
    if isinstance(content, str):
        return Content(content)
    if not isinstance(content, list):
        bad(
            f"Invalid type for '{param}': expected one of a string or array of objects,"
            f" but got {kind_of(content)} instead.",
            param,
            "invalid_type",
        )
    if not content:
        bad(
            f"Invalid '{param}': array too short. Expected an array with minimum length 1,"
            " but got an empty array instead.",
            param,
            "empty_array",
        )
    allowed = _PARTS.get(role, ("text",))
    out = Content()
    for j, part in enumerate(content):
        path = f"{param}[{j}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(part, Mapping) or kind not in allowed:
            if role in ("user", "assistant") or kind != "image_url":
                bad(
                    f"Invalid value: '{kind}'. Supported values are: {supported(allowed)}.",
                    f"{path}.type",
                    "invalid_value",
                )
            bad(
                "Invalid content type. image_url is only supported by certain models.",
                f"messages.[{i}].content.[{j}].type",
            )
        extra(part, _PART_KEYS[kind], f"messages.{i}.content.{j}", path)
        if kind == "text":
            if not isinstance(part.get("text"), str):
                bad(f"Missing required parameter: '{path}.text'.", f"{path}.text")
            out.text += part["text"]
        elif kind == "refusal":
            if not isinstance(part.get("refusal"), str):
                bad(f"Missing required parameter: '{path}.refusal'.", f"{path}.refusal")
        elif kind == "image_url":
            _image(part, path)
            out.images += 1
    return out
