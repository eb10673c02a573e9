"""
Where configuration comes from: YAML files (ours and the seed's shape) and the environment.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import ConfigError
from .environ import process_environ

__all__ = ["load_env", "load_yaml", "seed_to_ours"]

C = TypeVar("C", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.holysheep.ai/v1"


def _ref_to_env(ref: str) -> str:
    # The seed mounts secret key "holysheep-api-key" as HOLYSHEEP_API_KEY.
    return ref.strip().upper().replace("-", "_").replace(".", "_")


def seed_to_ours(data: Mapping[str, Any]) -> dict[str, Any]:
    """
    Translate the seed's ``api_configs`` / ``migration_schedule`` shape into ours.

    ``api_key_ref: holysheep-api-key`` becomes ``api_key_env: HOLYSHEEP_API_KEY``
    (the environment variable the reference Deployment mounts it as).
    ``migration_schedule`` entries ``{phase, duration, <target>_weight}`` become the
    phases of a migration to ``<target>`` from the other provider; a top-level
    ``migration_started_at`` starts its clock (without it the configured weights hold).

    Raises:
        ConfigError: The shape is not the seed's.
    """
    out: dict[str, Any] = {
        k: v
        for k, v in data.items()
        if k not in {"api_configs", "migration_schedule", "migration_started_at"}
    }
    configs = data.get("api_configs")
    if not isinstance(configs, Mapping) or not configs:
        raise ConfigError(
            "api_configs", "expected a mapping of provider name to settings"
        )
    providers = []
    for name, entry in configs.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(f"api_configs.{name}", "expected a mapping")
        p = {k: v for k, v in entry.items() if k != "api_key_ref"}
        p["name"] = str(name)
        if "api_key_ref" in entry:
            if not isinstance(entry["api_key_ref"], str):
                raise ConfigError(
                    f"api_configs.{name}.api_key_ref", "expected a string"
                )
            p["api_key_env"] = _ref_to_env(entry["api_key_ref"])
        providers.append(p)
    out["providers"] = providers
    schedule = data.get("migration_schedule")
    if schedule:
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
        out["migration"] = migration
    return out


def load_yaml(
    cls: type[C], path: str | Path, *, environ: Mapping[str, str] | None = None
) -> C:
    """
    Read a config file in either shape; see `ClientConfig.from_yaml`.
    """
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            "path", f"cannot read the config file ({exc.strerror})"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError("path", f"the file is not valid YAML{where}") from None
    if not isinstance(data, Mapping):
        raise ConfigError("config", "expected a mapping at the top of the file")
    if "api_configs" in data:
        data = seed_to_ours(data)
    context = None if environ is None else {"environ": environ}
    return cls.model_validate(data, context=context)


def _env_number(
    env: Mapping[str, str], name: str, kind: type[float] | type[int]
) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(
            name, f"expected {'an integer' if kind is int else 'a number'}"
        ) from None
    if value <= 0:
        raise ConfigError(name, "must be greater than 0")
    return value


def load_env(cls: type[C], environ: Mapping[str, str] | None = None) -> C:
    """
    Build a single-provider config from the environment; see `ClientConfig.from_env`.
    """
    env = process_environ() if environ is None else environ
    if not env.get("HOLYSHEEP_API_KEY"):
        raise ConfigError("HOLYSHEEP_API_KEY", "environment variable is not set")
    base_url = (
        env.get("HOLYSHEEP_BASE_URL")
        or env.get("DEERFLOW_BASE_URL")
        or DEFAULT_BASE_URL
    )
    provider: dict[str, Any] = {
        "name": env.get("HOLYSHEEP_PROVIDER_NAME") or "holysheep",
        "base_url": base_url,
        "api_key_env": "HOLYSHEEP_API_KEY",
    }
    if env.get("HOLYSHEEP_PROTOCOL"):
        provider["protocol"] = env["HOLYSHEEP_PROTOCOL"]
    data: dict[str, Any] = {"providers": [provider]}
    mcr = _env_number(env, "MAX_CONCURRENT_REQUESTS", int)
    if mcr is not None:
        data["max_concurrent_requests"] = mcr
    if env.get("HOLYSHEEP_SHARED_STATE_URL"):
        data["shared_state"] = {"url": env["HOLYSHEEP_SHARED_STATE_URL"]}
    timeout = _env_number(env, "REQUEST_TIMEOUT", float)
    if timeout is not None:
        data["timeout"] = {"per_attempt": timeout}
    try:
        return cls.model_validate(data, context={"environ": env})
    except ConfigError as exc:
        names = {
            "providers.0.base_url": "HOLYSHEEP_BASE_URL",
            "providers.0.api_key_env": "HOLYSHEEP_API_KEY",
            "providers.0.protocol": "HOLYSHEEP_PROTOCOL",
            "providers.0.name": "HOLYSHEEP_PROVIDER_NAME",
            "shared_state.url": "HOLYSHEEP_SHARED_STATE_URL",
        }
        if exc.field in names:
            raise ConfigError(names[exc.field], exc.reason) from None
        raise
