"""
The seed's config shape (``api_configs`` / ``migration_schedule``), translated into
ours, with errors that name the path in the user's file and suggest a near key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..errors import ConfigError
from .provider import ProviderConfig, looks_like_key

__all__ = ["SEED_KEYS", "did_you_mean", "seed_field", "seed_to_ours"]

#: The seed shape's own top-level keys.
SEED_KEYS = frozenset(
    {
        "api_configs",
        "migration_schedule",
        "migration_started_at",
        "migration_gate",
        "migration_shadow",
    }
)
_ENTRY_KEYS = frozenset(ProviderConfig.model_fields) - {"name"} | {"api_key_ref"}
_STEP_KEYS = frozenset({"phase", "duration"})


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def did_you_mean(key: str, known: Collection[str]) -> str:
    """
    The reason for an unknown ``key``, suggesting a known key one edit away.
    """
    close = sorted(k for k in known if _one_edit(key, k))
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return "unknown key"


def _check_keys(keys: Collection[Any], known: Collection[str], where: str) -> None:
    for key in keys:
        if str(key) not in known:
            path = f"{where}.{key}" if where else str(key)
            raise ConfigError(path, did_you_mean(str(key), known))


def _ref_to_env(ref: str) -> str:
    # The seed mounts secret key "holysheep-api-key" as HOLYSHEEP_API_KEY.
    return ref.strip().upper().replace("-", "_").replace(".", "_")


def seed_to_ours(
    data: Mapping[str, Any], *, top_keys: Collection[str] | None = None
) -> dict[str, Any]:
    """
    Translate the seed's ``api_configs`` / ``migration_schedule`` shape into ours.

    ``api_key_ref: holysheep-api-key`` becomes ``api_key_env: HOLYSHEEP_API_KEY``
    (the environment variable the reference Deployment mounts it as); an entry may
    also carry ``models:``, this provider's model id per alias.
    ``migration_schedule`` entries ``{phase, duration, <target>_weight}`` become the
    phases of a migration to ``<target>`` from the other provider; a top-level
    ``migration_started_at`` starts its clock (without it the configured weights hold).

    Args:
        data: The file's top-level mapping.
        top_keys: Our shape's top-level keys, also allowed here; unknown keys are
            refused (with a suggestion) when given.

    Raises:
        ConfigError: The shape is not the seed's; the field is the path in the file.
    """
    if top_keys is not None:
        _check_keys(data, set(top_keys) - {"providers", "migration"} | SEED_KEYS, "")
    out: dict[str, Any] = {k: v for k, v in data.items() if k not in SEED_KEYS}
    configs = data.get("api_configs")
    if not isinstance(configs, Mapping) or not configs:
        raise ConfigError(
            "api_configs", "expected a mapping of provider name to settings"
        )
    providers = []
    for name, entry in configs.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(f"api_configs.{name}", "expected a mapping")
        _check_keys(entry, _ENTRY_KEYS, f"api_configs.{name}")
        p = {k: v for k, v in entry.items() if k != "api_key_ref"}
        p["name"] = str(name)
        if "api_key_ref" in entry:
            ref = entry["api_key_ref"]
            if not isinstance(ref, str):
                raise ConfigError(
                    f"api_configs.{name}.api_key_ref", "expected a string"
                )
            if looks_like_key(ref):
                raise ConfigError(
                    f"api_configs.{name}.api_key_ref",
                    "looks like an API key, not the name of a secret; name the secret"
                    " (e.g. holysheep-api-key) and keep the key in it",
                )
            p["api_key_env"] = _ref_to_env(ref)
        providers.append(p)
    out["providers"] = providers
    schedule = data.get("migration_schedule")
    if schedule:
        out["migration"] = _migration(schedule, providers, data)
    return out


def _migration(
    schedule: Any, providers: list[dict[str, Any]], data: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(schedule, list):
        raise ConfigError("migration_schedule", "expected a list of phases")
    phases, target = [], None
    for i, step in enumerate(schedule):
        if not isinstance(step, Mapping):
            raise ConfigError(f"migration_schedule.{i}", "expected a mapping")
        keys = [k for k in step if str(k).endswith("_weight")]
        if len(keys) != 1:
            raise ConfigError(
                f"migration_schedule.{i}",
                "expected exactly one '<provider>_weight' key",
            )
        _check_keys(step, _STEP_KEYS | {str(keys[0])}, f"migration_schedule.{i}")
        this_target = str(keys[0]).removesuffix("_weight")
        if target not in (None, this_target):
            raise ConfigError(
                f"migration_schedule.{i}", "every phase must move the same provider"
            )
        target = this_target
        phases.append(
            {
                "name": step.get("phase", f"phase-{i + 1}"),
                "duration": step.get("duration", 0),
                "weight": step[keys[0]],
            }
        )
    others = [p["name"] for p in providers if p["name"] != target]
    if len(others) != 1:
        raise ConfigError(
            "migration_schedule",
            "the seed shape needs exactly one source provider besides the target",
        )
    migration: dict[str, Any] = {
        "source": others[0],
        "target": target,
        "phases": phases,
    }
    if data.get("migration_started_at") is not None:
        migration["started_at"] = data["migration_started_at"]
    for key in ("gate", "shadow"):
        if data.get(f"migration_{key}") is not None:
            migration[key] = data[f"migration_{key}"]
    return migration


_PHASE_FIELDS = {"name": "phase", "duration": "duration"}


def seed_field(field: str, seed: Mapping[str, Any]) -> str:
    """
    Where in the seed-shaped file the field ``field`` of the translated config came from.

    Args:
        field: A dotted path in our shape, e.g. ``providers.1.api_key_env``.
        seed: The translated config (`seed_to_ours`' result).
    """
    parts = field.split(".")
    if parts[0] == "providers":
        if len(parts) == 1:
            return "api_configs"
        try:
            name = seed["providers"][int(parts[1])]["name"]
        except (ValueError, IndexError, KeyError, TypeError):
            return "api_configs"
        rest = parts[2:]
        if rest[:1] == ["name"]:
            return f"api_configs.{name}"
        if rest[:1] == ["api_key_env"]:
            rest = ["api_key_ref", *rest[1:]]
        return ".".join(["api_configs", str(name), *rest])
    if parts[0] == "migration" and "migration" in seed:
        if parts[1:2] == ["started_at"]:
            return "migration_started_at"
        if parts[1:2] in (["gate"], ["shadow"]):
            return ".".join([f"migration_{parts[1]}", *parts[2:]])
        if parts[1:2] == ["phases"] and len(parts) >= 4:
            target = seed["migration"]["target"]
            leaf = _PHASE_FIELDS.get(parts[3], f"{target}_weight")
            return ".".join(["migration_schedule", parts[2], leaf, *parts[4:]])
        return "migration_schedule"
    return field
