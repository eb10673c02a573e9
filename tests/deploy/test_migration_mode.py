"""
``migration: client``: one Deployment whose ConfigMap carries the whole migration (its
gate and shadow settings included) with shared state; the mesh mode leaves it out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from holysheep_client import ClientConfig, ConfigError, GateConfig, ShadowConfig
from holysheep_client.deploy import ValuesConfig, as_dicts, check, reference_stack
from holysheep_client.deploy._cli import main
from holysheep_client.deploy._plan import NoKeys, with_deadline
from holysheep_client.deploy._redis import with_shared_state
from holysheep_client.deploy._reference import reference_config

from .conftest import of_kind, one

GATE = GateConfig(max_error_rate=0.02, min_agreement=0.95, min_samples=200, window="1h")
SHADOW = ShadowConfig(sample=0.05, comparator="json_fields", max_in_flight=8)


def gated() -> ClientConfig:
    """The seed's config with a gate and shadow traffic on its migration."""
    config = reference_config()
    assert config.migration is not None
    migration = config.migration.model_copy(update={"gate": GATE, "shadow": SHADOW})
    return config.model_copy(update={"migration": migration})


CLIENT = ValuesConfig(migration="client", redis={"mode": "embedded"})


def loaded(doc: dict[str, Any]) -> ClientConfig:
    data = yaml.safe_load(doc["data"]["config.yaml"])
    return ClientConfig.model_validate(data, context={"environ": NoKeys()})


def test_the_configmap_carries_the_gate_and_shadow() -> None:
    """One Deployment runs the whole migration; its config.yaml holds gate and shadow."""
    docs = as_dicts(reference_stack(gated(), CLIENT))
    apps = [
        d for d in of_kind(docs, "Deployment") if "redis" not in d["metadata"]["name"]
    ]
    assert [d["metadata"]["name"] for d in apps] == ["deerflow-api-migrating"]
    config = loaded(one(docs, "ConfigMap", "deerflow-api-migrating-config"))
    assert config.migration is not None
    assert config.migration.gate == GATE and config.migration.shadow == SHADOW
    assert config.shared_state is not None
    expected = with_deadline(
        with_shared_state(gated(), "embedded", namespace="deerflow-prod")
    )
    assert config.to_dict() == expected.to_dict()
    (route,) = one(docs, "VirtualService")["spec"]["http"]
    assert [d["weight"] for d in route["route"]] == [100]


def test_the_client_mode_set_passes_every_schema_and_rule(schemas: list[Path]) -> None:
    """The client-migration stack has no error and no warning against schemas and rules."""
    findings = check(reference_stack(gated(), CLIENT), schemas=schemas)
    assert [str(f) for f in findings if f.severity != "info"] == []


def test_the_mesh_mode_leaves_the_migration_out() -> None:
    """By default each track's ConfigMap has no migration: the mesh moves traffic."""
    docs = as_dicts(reference_stack(gated()))
    configs = [loaded(d) for d in of_kind(docs, "ConfigMap")]
    assert len(configs) == 2
    assert all(c.migration is None for c in configs)


@pytest.mark.parametrize(
    ("values", "config", "field"),
    [
        pytest.param({"migration": "client"}, gated(), "migration", id="no-redis"),
        pytest.param(
            {
                "migration": "client",
                "redis": {"mode": "embedded"},
                "holysheepWeight": 5,
            },
            gated(),
            "holysheepWeight",
            id="with-a-mesh-weight",
        ),
        pytest.param(
            {"migration": "client", "redis": {"mode": "embedded"}},
            reference_config().model_copy(update={"migration": None}),
            "migration",
            id="config-without-migration",
        ),
        pytest.param({"migration": "sideways"}, gated(), "migration", id="unknown"),
    ],
)
def test_bad_migration_mode_names_the_field(
    values: dict[str, Any], config: ClientConfig, field: str
) -> None:
    """Inconsistent migration settings raise ConfigError naming the field."""
    with pytest.raises(ConfigError) as err:
        reference_stack(config, ValuesConfig.model_validate(values))
    assert err.value.field == field


def test_cli_migration_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config FILE --migration client --redis embedded writes the gate into the ConfigMap."""
    path = tmp_path / "config.yaml"
    path.write_text(gated().to_yaml())
    argv = ["--config", str(path), "--migration", "client", "--redis", "embedded"]
    assert main([*argv, "--kind", "ConfigMap"]) == 0
    out = capsys.readouterr().out
    assert "min_agreement: 0.95" in out and "comparator: json_fields" in out
    assert main(["--migration", "client"]) == 2
    assert "migration" in capsys.readouterr().err
