"""
Config sources: seed-shape errors name the path in the user's file, the seed shape's
``models:`` mapping, and from_env's reading of the official SDKs' variables.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holysheep_client import ClientConfig, ConfigError

SEED = """\
api_configs:
  legacy:
    base_url: https://api.legacy.example/v1
    api_key_ref: legacy-api-key
    protocol: openai
    weight: 100
  holysheep:
    base_url: https://api.holysheep.ai/v1
    {key}: holysheep-api-key
    weight: {weight}
    models: {{gpt-4.1: deepseek-v3.2}}
migration_schedule:
  - {{phase: canary, duration: 24h, holysheep_weight: {phase_weight}}}
  - {{phase: full, duration: 0h, holysheep_weight: 100}}
"""
ENV = {"LEGACY_API_KEY": "k1", "HOLYSHEEP_API_KEY": "k2"}


def load(tmp_path: Path, env: dict[str, str] = ENV, **kw: object) -> ClientConfig:
    fields = {"key": "api_key_ref", "weight": 0, "phase_weight": 5, **kw}
    path = tmp_path / "config.yaml"
    path.write_text(SEED.format(**fields))
    return ClientConfig.from_yaml(path, environ=env)


def test_the_seed_shape_maps_model_names_per_provider(tmp_path: Path) -> None:
    """An api_configs entry's models: mapping becomes that provider's alias map."""
    config = load(tmp_path)
    assert config.provider("holysheep").model_for("gpt-4.1") == "deepseek-v3.2"
    assert config.provider("legacy").model_for("gpt-4.1") == "gpt-4.1"


@pytest.mark.parametrize(
    ("change", "env", "field", "reason"),
    [
        pytest.param(
            {"key": "api_keyref"},
            ENV,
            "api_configs.holysheep.api_keyref",
            "did you mean 'api_key_ref'?",
            id="typo-one-edit",
        ),
        pytest.param(
            {"key": "secret_ref"},
            ENV,
            "api_configs.holysheep.secret_ref",
            "unknown key",
            id="unknown-far",
        ),
        pytest.param(
            {"weight": -1},
            ENV,
            "api_configs.holysheep.weight",
            "greater than or equal to 0",
            id="bad-weight",
        ),
        pytest.param(
            {},
            {"LEGACY_API_KEY": "k1"},
            "api_configs.holysheep.api_key_ref",
            "HOLYSHEEP_API_KEY is not set",
            id="missing-secret",
        ),
        pytest.param(
            {"phase_weight": 150},
            ENV,
            "migration_schedule.0.holysheep_weight",
            "less than or equal to 100",
            id="phase-weight",
        ),
    ],
)
def test_seed_shape_errors_name_the_path_in_the_file(
    tmp_path: Path,
    change: dict[str, object],
    env: dict[str, str],
    field: str,
    reason: str,
) -> None:
    """A mistake in the seed-shaped file is reported at its own path, not ours."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, env, **change)
    assert info.value.field == field
    assert reason in info.value.reason


def test_a_top_level_typo_in_the_seed_shape_gets_a_suggestion(tmp_path: Path) -> None:
    """migration_schedul is one edit from migration_schedule: the error says so."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "api_configs:\n  a: {base_url: 'https://a/v1', api_key_ref: a-key}\n"
        "migration_schedul: []\n"
    )
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_yaml(path, environ={"A_KEY": "k"})
    assert info.value.field == "migration_schedul"
    assert "did you mean 'migration_schedule'?" in info.value.reason


def test_a_phase_key_typo_gets_a_suggestion(tmp_path: Path) -> None:
    """A schedule step's 'duraton' is named at its path with the key it is close to."""
    path = tmp_path / "config.yaml"
    path.write_text(
        SEED.format(key="api_key_ref", weight=0, phase_weight=5).replace(
            "duration: 24h", "duraton: 24h"
        )
    )
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_yaml(path, environ=ENV)
    assert info.value.field == "migration_schedule.0.duraton"
    assert "did you mean 'duration'?" in info.value.reason


@pytest.mark.parametrize(
    ("env", "base_url", "key_env"),
    [
        pytest.param(
            {"ANTHROPIC_API_KEY": "a"},
            "https://api.anthropic.com/v1",
            "ANTHROPIC_API_KEY",
            id="anthropic-key-alone",
        ),
        pytest.param(
            {"ANTHROPIC_API_KEY": "a", "ANTHROPIC_BASE_URL": "https://proxy.example/"},
            "https://proxy.example/v1",
            "ANTHROPIC_API_KEY",
            id="anthropic-base-url-gains-v1",
        ),
        pytest.param(
            {"HOLYSHEEP_PROTOCOL": "openai", "OPENAI_API_KEY": "o"},
            "https://api.openai.com/v1",
            "OPENAI_API_KEY",
            id="openai-key-alone",
        ),
        pytest.param(
            {
                "HOLYSHEEP_PROTOCOL": "openai",
                "OPENAI_API_KEY": "o",
                "OPENAI_BASE_URL": "https://oa.example/v1",
            },
            "https://oa.example/v1",
            "OPENAI_API_KEY",
            id="openai-base-url",
        ),
        pytest.param(
            {
                "HOLYSHEEP_API_KEY": "h",
                "ANTHROPIC_API_KEY": "a",
                "ANTHROPIC_BASE_URL": "https://proxy.example",
            },
            "https://api.holysheep.ai/v1",
            "HOLYSHEEP_API_KEY",
            id="ours-win-and-our-key-stays-home",
        ),
        pytest.param(
            {
                "ANTHROPIC_API_KEY": "a",
                "HOLYSHEEP_BASE_URL": "https://relay.example/v1",
            },
            "https://relay.example/v1",
            "ANTHROPIC_API_KEY",
            id="our-base-url-wins",
        ),
    ],
)
def test_from_env_reads_the_official_sdks_variables(
    env: dict[str, str], base_url: str, key_env: str
) -> None:
    """The SDK's variables serve a provider of that protocol; ours take precedence."""
    provider = ClientConfig.from_env(env).providers[0]
    assert provider.base_url == base_url
    assert provider.api_key_env == key_env
    assert provider.secret().get_secret_value() == env[key_env]


def test_from_env_names_the_sdk_variable_that_is_wrong() -> None:
    """A bad ANTHROPIC_BASE_URL is reported under that variable's name."""
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_env(
            {"ANTHROPIC_API_KEY": "a", "ANTHROPIC_BASE_URL": "ftp://x"}
        )
    assert info.value.field == "ANTHROPIC_BASE_URL"


def test_from_env_ignores_the_other_protocols_sdk_variables() -> None:
    """OPENAI_API_KEY does not serve the default (anthropic) provider."""
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_env({"OPENAI_API_KEY": "o"})
    assert info.value.field == "HOLYSHEEP_API_KEY"
    assert "ANTHROPIC_API_KEY" in info.value.reason
