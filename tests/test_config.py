"""
Configuration: every way in raises ConfigError naming the field, never echoing a value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from holysheep_client import (
    ClientConfig,
    ConfigError,
    MigrationConfig,
    MigrationPhase,
    ProviderConfig,
    TimeoutConfig,
)

SECRET = "sk-very-secret-value-123"


def provider(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "holysheep",
        "base_url": "https://api.holysheep.ai/v1",
        "api_key": SECRET,
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(
            {"providers": [provider(weight=-1)]},
            "providers.0.weight",
            id="negative-weight",
        ),
        pytest.param(
            {"providers": [provider(weight=0)]}, "providers", id="all-weights-zero"
        ),
        pytest.param(
            {"providers": [provider(), provider()]},
            "providers.1.name",
            id="duplicate-name",
        ),
        pytest.param(
            {"providers": [provider(api_key=None, api_key_env="NOPE_NOT_SET")]},
            "providers.0.api_key_env",
            id="missing-env-var",
        ),
        pytest.param(
            {"providers": [provider(base_url="http://api.example.com/v1")]},
            "providers.0.base_url",
            id="insecure-http",
        ),
        pytest.param(
            {"providers": [provider(api_key=SECRET + "\r\nX-Evil: 1")]},
            "providers.0.api_key",
            id="control-chars-in-key",
        ),
        pytest.param(
            {
                "providers": [provider()],
                "migration": {
                    "source": "holysheep",
                    "target": "ghost",
                    "phases": [{"name": "canary", "weight": 5}],
                },
            },
            "migration.target",
            id="migration-unknown-provider",
        ),
        pytest.param(
            {"providers": [provider()], "timeout": {"total": "soon"}},
            "timeout.total",
            id="bad-duration",
        ),
        pytest.param(
            {"providers": [provider(colour="red")]},
            "providers.0.colour",
            id="extra-key",
        ),
        pytest.param({"providers": []}, "providers", id="no-providers"),
    ],
)
def test_invalid_configs_raise_config_error_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    """Each invalid configuration raises ConfigError with the field's path and no secret."""
    for load in (
        ClientConfig.model_validate,
        lambda d: ClientConfig.model_validate_json(json.dumps(d)),
        lambda d: ClientConfig(**d),
    ):
        with pytest.raises(ConfigError) as info:
            load(data)
        assert info.value.field == field
        assert isinstance(info.value, ValueError)
        assert SECRET not in str(info.value)
        assert SECRET not in repr(info.value)
        assert info.value.__cause__ is None


def test_nested_model_constructor_raises_config_error() -> None:
    """Constructing a nested model directly raises ConfigError, not ValidationError."""
    with pytest.raises(ConfigError, match="weight"):
        ProviderConfig(**provider(weight=-2))
    with pytest.raises(ConfigError, match="connect"):
        TimeoutConfig(connect=0)


def test_http_is_allowed_for_loopback_and_with_opt_in() -> None:
    """http:// works for loopback hosts and, when asked for, elsewhere."""
    assert (
        ProviderConfig(**provider(base_url="http://127.0.0.1:8080/v1/")).base_url
        == "http://127.0.0.1:8080/v1"
    )
    assert ProviderConfig(**provider(base_url="http://[::1]:1/v1")).base_url.startswith(
        "http://[::1]"
    )
    ProviderConfig(
        **provider(base_url="http://relay.internal/v1", allow_insecure_http=True)
    )


def test_key_never_appears_in_repr_or_dump() -> None:
    """A literal key is a SecretStr: not in repr, and to_dict refuses to write it."""
    config = ClientConfig(providers=[ProviderConfig(**provider())])
    assert SECRET not in repr(config)
    assert config.providers[0].secret().get_secret_value() == SECRET
    with pytest.raises(ConfigError, match="api_key"):
        config.to_dict()


def test_api_key_env_resolves_from_the_given_environ() -> None:
    """api_key_env is read from the environment at validation time."""
    config = ClientConfig.model_validate(
        {"providers": [provider(api_key=None, api_key_env="HS_KEY")]},
        context={"environ": {"HS_KEY": SECRET}},
    )
    assert config.providers[0].secret().get_secret_value() == SECRET


def test_durations_accept_strings() -> None:
    """Duration fields accept "90s", "30m", "24h" and plain seconds."""
    phases = [
        MigrationPhase(name="a", duration="90s", weight=5),
        MigrationPhase(name="b", duration="30m", weight=25),
        MigrationPhase(name="c", duration="24h", weight=75),
        MigrationPhase(name="d", duration=0, weight=100),
    ]
    assert [p.duration for p in phases] == [90.0, 1800.0, 86400.0, 0.0]
    with pytest.raises(ConfigError, match=r"phases\.0\.duration"):
        MigrationConfig(
            source="a",
            target="b",
            phases=[MigrationPhase(name="x", duration=0, weight=5), phases[1]],
        )


def test_started_at_must_be_aware() -> None:
    """A naive started_at is rejected."""
    with pytest.raises(ConfigError, match="started_at"):
        MigrationConfig(
            source="a",
            target="b",
            started_at=datetime(2026, 1, 1),
            phases=[MigrationPhase(name="x", weight=5)],
        )
    MigrationConfig(
        source="a",
        target="b",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        phases=[MigrationPhase(name="x", weight=5)],
    )


SEED_YAML = """
api_configs:
  legacy:
    base_url: "https://api.legacy-vendor.com/v1"
    api_key_ref: "legacy-api-key"
    weight: 100
    protocol: openai
  holysheep:
    base_url: "https://api.holysheep.ai/v1"
    api_key_ref: "holysheep-api-key"
    weight: 0
migration_schedule:
  - phase: "canary"
    duration: "24h"
    holysheep_weight: 5
  - phase: "rolling"
    duration: "48h"
    holysheep_weight: 25
  - phase: "majority"
    duration: "24h"
    holysheep_weight: 75
  - phase: "full"
    duration: "0h"
    holysheep_weight: 100
"""

ENV = {"LEGACY_API_KEY": "sk-legacy-1", "HOLYSHEEP_API_KEY": "hs-key-2"}


def test_from_yaml_reads_the_seed_shape(tmp_path: Path) -> None:
    """The seed's api_configs / migration_schedule shape loads, with keys from the environment."""
    path = tmp_path / "config.yaml"
    path.write_text(SEED_YAML)
    config = ClientConfig.from_yaml(path, environ=ENV)
    assert [p.name for p in config.providers] == ["legacy", "holysheep"]
    assert config.providers[1].api_key_env == "HOLYSHEEP_API_KEY"
    assert config.providers[1].secret().get_secret_value() == "hs-key-2"
    assert config.migration is not None
    assert (config.migration.source, config.migration.target) == ("legacy", "holysheep")
    assert [(p.name, p.duration, p.weight) for p in config.migration.phases] == [
        ("canary", 86400.0, 5.0),
        ("rolling", 172800.0, 25.0),
        ("majority", 86400.0, 75.0),
        ("full", 0.0, 100.0),
    ]


def test_from_yaml_round_trips_our_shape(tmp_path: Path) -> None:
    """to_yaml writes a file that from_yaml reads back to an equal config."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED_YAML)
    config = ClientConfig.from_yaml(seed, environ=ENV)
    ours = tmp_path / "ours.yaml"
    ours.write_text(config.to_yaml())
    assert "hs-key-2" not in ours.read_text()
    assert ClientConfig.from_yaml(ours, environ=ENV) == config


def test_from_yaml_errors_are_typed(tmp_path: Path) -> None:
    """Missing files, broken YAML and bad values raise ConfigError."""
    with pytest.raises(ConfigError, match="path"):
        ClientConfig.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        ClientConfig.from_yaml(bad)
    bad.write_text(
        "api_configs:\n  holysheep:\n    base_url: https://a/v1\n    api_key_ref: x-key\n"
    )
    with pytest.raises(ConfigError, match="X_KEY"):
        ClientConfig.from_yaml(bad, environ={})


def test_from_env_reads_the_documented_variables() -> None:
    """from_env uses HOLYSHEEP_API_KEY, DEERFLOW_BASE_URL, MAX_CONCURRENT_REQUESTS, REQUEST_TIMEOUT."""
    config = ClientConfig.from_env(
        {
            "HOLYSHEEP_API_KEY": SECRET,
            "DEERFLOW_BASE_URL": "https://relay.example/v1",
            "MAX_CONCURRENT_REQUESTS": "7",
            "REQUEST_TIMEOUT": "12.5",
        }
    )
    assert config.providers[0].base_url == "https://relay.example/v1"
    assert config.max_concurrent_requests == 7
    assert config.timeout.per_attempt == 12.5
    assert config.providers[0].secret().get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("env", "field"),
    [
        pytest.param({}, "HOLYSHEEP_API_KEY", id="no-key"),
        pytest.param(
            {"HOLYSHEEP_API_KEY": "k", "MAX_CONCURRENT_REQUESTS": "many"},
            "MAX_CONCURRENT_REQUESTS",
            id="not-int",
        ),
        pytest.param(
            {"HOLYSHEEP_API_KEY": "k", "REQUEST_TIMEOUT": "-1"},
            "REQUEST_TIMEOUT",
            id="negative",
        ),
        pytest.param(
            {"HOLYSHEEP_API_KEY": "k", "HOLYSHEEP_BASE_URL": "ftp://x"},
            "HOLYSHEEP_BASE_URL",
            id="bad-url",
        ),
        pytest.param(
            {"HOLYSHEEP_API_KEY": "k\x00"}, "HOLYSHEEP_API_KEY", id="control-char"
        ),
    ],
)
def test_from_env_errors_name_the_variable(env: dict[str, str], field: str) -> None:
    """from_env errors name the environment variable that is wrong."""
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_env(env)
    assert info.value.field == field


def test_from_env_reads_the_shared_state_url() -> None:
    """HOLYSHEEP_SHARED_STATE_URL turns shared state on; a bad one is named."""
    env = {
        "HOLYSHEEP_API_KEY": "k",
        "HOLYSHEEP_SHARED_STATE_URL": "redis://:pw@redis:6379/0",
    }
    config = ClientConfig.from_env(env)
    assert config.shared_state is not None
    assert "pw" not in repr(config)
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_env({**env, "HOLYSHEEP_SHARED_STATE_URL": "http://x"})
    assert info.value.field == "HOLYSHEEP_SHARED_STATE_URL"
