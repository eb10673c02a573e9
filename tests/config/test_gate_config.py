"""
The gate and shadow settings in files: our shape round-trips, the seed shape takes
``migration_gate`` / ``migration_shadow``, errors name the field in the file, and a
callable comparator is never written out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holysheep_client import ClientConfig, ConfigError, GateConfig, ShadowConfig

ENV = {"LEGACY_API_KEY": "k1", "HOLYSHEEP_API_KEY": "k2"}

SEED = """\
api_configs:
  legacy:
    base_url: "https://api.legacy-vendor.com/v1"
    api_key_ref: "legacy-api-key"
    weight: 100
  holysheep:
    base_url: "https://api.holysheep.ai/v1"
    api_key_ref: "holysheep-api-key"
    weight: 0
migration_schedule:
  - {phase: canary, duration: 24h, holysheep_weight: 5}
  - {phase: full, duration: 0h, holysheep_weight: 100}
migration_started_at: "2026-06-01T00:00:00+00:00"
migration_gate:
  max_error_rate: 0.02
  min_agreement: 0.95
  min_samples: 200
  window: 1h
  on_fail: hold
migration_shadow:
  sample: 0.05
  comparator: json_fields
  max_in_flight: 8
"""


def test_the_seed_shape_takes_a_gate_and_shadow(tmp_path: Path) -> None:
    """migration_gate and migration_shadow become the migration's gate and shadow."""
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    config = ClientConfig.from_yaml(path, environ=ENV)
    m = config.migration
    assert m is not None
    assert m.gate == GateConfig(
        max_error_rate=0.02, min_agreement=0.95, min_samples=200, window=3600
    )
    assert m.shadow == ShadowConfig(sample=0.05, comparator="json_fields")


def test_gate_and_shadow_round_trip_through_our_shape(tmp_path: Path) -> None:
    """to_yaml writes the gate and shadow; from_yaml reads back an equal config."""
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    config = ClientConfig.from_yaml(path, environ=ENV)
    ours = tmp_path / "ours.yaml"
    ours.write_text(config.to_yaml())
    assert "min_agreement: 0.95" in ours.read_text()
    assert ClientConfig.from_yaml(ours, environ=ENV) == config


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        pytest.param(
            "sample: 0.05", "sample: 5", "migration_shadow.sample", id="sample"
        ),
        pytest.param(
            "comparator: json_fields",
            "comparator: vibes",
            "migration_shadow.comparator",
            id="comparator",
        ),
        pytest.param(
            "max_in_flight: 8",
            "max_in_flight: 0",
            "migration_shadow.max_in_flight",
            id="in-flight",
        ),
        pytest.param(
            "min_samples: 200",
            "min_samples: 0",
            "migration_gate.min_samples",
            id="min-samples",
        ),
        pytest.param(
            "  max_error_rate: 0.02\n  min_agreement: 0.95\n",
            "",
            "migration_gate.max_error_rate",
            id="no-threshold",
        ),
    ],
)
def test_bad_gate_settings_name_the_field_in_the_file(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    """A bad gate or shadow value in a seed-shaped file names its path in that file."""
    path = tmp_path / "seed.yaml"
    text = SEED.replace(old, new)
    assert text != SEED
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        ClientConfig.from_yaml(path, environ=ENV)
    assert err.value.field == field
    assert "vibes" not in str(err.value)


def test_a_callable_comparator_is_never_written_out(tmp_path: Path) -> None:
    """to_dict refuses a callable comparator, naming the field."""
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    config = ClientConfig.from_yaml(path, environ=ENV)
    m = config.migration
    assert m is not None
    shadow = ShadowConfig(comparator=lambda s, t: 1.0)
    odd = config.model_copy(
        update={"migration": m.model_copy(update={"shadow": shadow})}
    )
    with pytest.raises(ConfigError) as err:
        odd.to_dict()
    assert err.value.field == "migration.shadow.comparator"
