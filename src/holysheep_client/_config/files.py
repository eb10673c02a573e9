"""
Reading a YAML config file safely: size-capped, UTF-8 only, depth- and alias-capped,
so a hostile or broken file ends in `ConfigError`, fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_YAML_BYTES", "read_yaml"]

#: The largest config file read (1 MiB); real ones are a few kilobytes.
MAX_YAML_BYTES = 1 << 20
#: The deepest nesting of mappings and lists; real configs nest 4 or 5 deep.
MAX_DEPTH = 32
#: The most nodes a document may expand to, aliases counted at their full size.
MAX_NODES = 200_000

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def _decode(raw: bytes) -> str:
    for bom, name in _BOMS.items():
        if raw.startswith(bom):
            raise ConfigError("path", f"the file is {name} text; save it as UTF-8")
    if b"\x00" in raw[:4096]:
        raise ConfigError(
            "path", "the file holds NUL bytes (UTF-16 or binary?); save it as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "path", f"the file is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def _check_shape(text: str) -> None:
    """
    Walk the parser's events (no recursion) and refuse deep or alias-bloated documents
    before the recursive composer sees them.
    """
    import yaml

    # One entry per open collection: [its expanded node count, its anchor].
    stack: list[list[Any]] = [[0, None]]
    sizes: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                raise ConfigError(
                    "path", f"the file nests deeper than {MAX_DEPTH} levels"
                )
            stack.append([1, event.anchor])
            n = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            count, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = count
            stack[-1][0] += count
            continue
        elif isinstance(event, yaml.AliasEvent):
            n = sizes.get(event.anchor or "", 1)
            stack[-1][0] += n
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            n = 1
            stack[-1][0] += n
        else:
            continue
        total += n
        if total > MAX_NODES:
            raise ConfigError(
                "path", f"the file expands to more than {MAX_NODES} values"
            )


def read_yaml(path: str | Path) -> Any:
    """
    The YAML document in ``path``, read with every cap applied.

    Raises:
        ConfigError: Naming ``path``: unreadable, over 1 MiB, not UTF-8, not valid
            YAML (with the line), too deep, or expanding to too many values.
    """
    import yaml

    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            "path",
            f"cannot read the config file ({exc.strerror or type(exc).__name__})",
        ) from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(
            "path", "the file is larger than 1 MiB; a config is a few KiB"
        )
    text = _decode(raw)
    try:
        _check_shape(text)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError("path", f"the file is not valid YAML{where}") from None
    except (RecursionError, OverflowError, ValueError, TypeError) as exc:
        # The safe constructors raise these for values such as a date out of range.
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(
            "path", "the file holds a value YAML cannot represent"
        ) from None
