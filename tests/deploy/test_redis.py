"""
The reference stack's shared-state Redis: embedded (Deployment, Service, NetworkPolicy)
or external, and the client config that points at it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from holysheep_client import ClientConfig, ConfigError
from holysheep_client.deploy import as_dicts, check, reference_stack
from holysheep_client.deploy._cli import main
from holysheep_client.deploy._plan import NoKeys
from holysheep_client.deploy._units import parse_quantity

from .conftest import of_kind, one

EMBEDDED_URL = "redis://deerflow-redis.deerflow-prod.svc:6379/0"


def _configs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        yaml.safe_load(d["data"]["config.yaml"]) for d in of_kind(docs, "ConfigMap")
    ]


def test_default_renders_no_redis(stack: list[dict[str, Any]]) -> None:
    """Without the option there is no Redis and no shared_state in the configs."""
    assert not [d for d in stack if "redis" in d["metadata"]["name"]]
    assert all(c.get("shared_state") is None for c in _configs(stack))


def test_embedded_renders_redis_and_points_the_config_at_it() -> None:
    """redis='embedded' adds a one-replica Redis, its Service and NetworkPolicy, and sets shared_state.url."""
    docs = as_dicts(reference_stack(redis="embedded"))
    deployment = one(docs, "Deployment", "deerflow-redis")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    service = one(docs, "Service", "deerflow-redis")
    assert service["spec"]["ports"][0]["port"] == 6379
    policy = one(docs, "NetworkPolicy", "deerflow-redis")
    peers = policy["spec"]["ingress"][0]["from"]
    assert peers == [{"podSelector": {"matchLabels": {"app": "deerflow"}}}]
    for config in _configs(docs):
        assert config["shared_state"]["url"] == EMBEDDED_URL
        ClientConfig.model_validate(config, context={"environ": NoKeys()})


def test_the_quota_counts_the_redis_pod() -> None:
    """The ResourceQuota grows by the Redis pod (its container and sidecar)."""

    def hard(docs: list[dict[str, Any]]) -> dict[str, Fraction]:
        quota = one(docs, "ResourceQuota")["spec"]["hard"]
        return {k: parse_quantity(v) for k, v in quota.items()}

    without = hard(as_dicts(reference_stack()))
    with_redis = hard(as_dicts(reference_stack(redis="embedded")))
    assert with_redis["pods"] - without["pods"] == 1
    # The quota rounds up, so it grows by at least the pod's share.
    assert with_redis["requests.cpu"] >= without["requests.cpu"] + Fraction(2, 10)
    assert with_redis["limits.memory"] >= without["limits.memory"] + 768 * 2**20


def test_embedded_set_passes_every_schema_and_rule(schemas: list[Path]) -> None:
    """The stack with an embedded Redis has no error and no warning against schemas and rules."""
    findings = check(reference_stack(redis="embedded"), schemas=schemas)
    assert [str(f) for f in findings if f.severity != "info"] == []


def test_embedded_set_lints_clean_without_schemas() -> None:
    """The stack with an embedded Redis has no lint error (no schema folder needed)."""
    findings = check(reference_stack(redis="embedded"))
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_external_sets_the_url_and_renders_no_redis() -> None:
    """redis='external' writes the given URL into the configs and adds no workload."""
    url = "redis://redis.infra.svc:6379/2"
    docs = as_dicts(reference_stack(redis="external", redis_url=url))
    assert not [d for d in docs if "redis" in d["metadata"]["name"]]
    assert {c["shared_state"]["url"] for c in _configs(docs)} == {url}


@pytest.mark.parametrize(
    ("redis", "url", "field"),
    [
        pytest.param("external", None, "redis_url", id="external-without-url"),
        pytest.param(
            "embedded", "redis://x:6379/0", "redis_url", id="url-not-external"
        ),
        pytest.param("cluster", None, "redis", id="unknown-mode"),
        pytest.param("external", "http://x:6379", "redis_url", id="not-redis"),
        pytest.param(
            "external", "redis://:hunter2@x:6379/0", "redis_url", id="password"
        ),
    ],
)
def test_bad_redis_options_are_config_errors(
    redis: str, url: str | None, field: str
) -> None:
    """Inconsistent options and a URL with a password raise ConfigError naming the field, never the password."""
    with pytest.raises(ConfigError) as info:
        reference_stack(redis=redis, redis_url=url)  # type: ignore[arg-type]
    assert info.value.field == field
    assert "hunter2" not in str(info.value)


def test_cli_redis_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--redis embedded renders the Redis objects; --redis external needs --redis-url."""
    assert main(["--redis", "embedded", "--kind", "Deployment"]) == 0
    names = {
        d["metadata"]["name"] for d in yaml.safe_load_all(capsys.readouterr().out) if d
    }
    assert "deerflow-redis" in names
    assert main(["--redis", "external"]) == 2
    assert "--redis-url: required with --redis external" in capsys.readouterr().err
    assert (
        main(
            [
                "--redis",
                "external",
                "--redis-url",
                "redis://r:6379/0",
                "--kind",
                "ConfigMap",
            ]
        )
        == 0
    )
    assert "redis://r:6379/0" in capsys.readouterr().out


def test_help_lists_the_redis_options(capsys: pytest.CaptureFixture[str]) -> None:
    """render --help lists --redis, --redis-url and --redis-image."""
    assert main(["render", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--redis {none,embedded,external}" in out
    assert "--redis-url" in out and "--redis-image" in out


def test_redis_is_pinned_by_digest() -> None:
    """The embedded Redis runs an exact version pinned by its image digest."""
    docs = as_dicts(reference_stack(redis="embedded"))
    image = one(docs, "Deployment", "deerflow-redis")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    name, _, digest = image.partition("@sha256:")
    assert name == "redis:7.4.11-alpine"
    assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def test_redis_image_can_be_overridden(capsys: pytest.CaptureFixture[str]) -> None:
    """--redis-image replaces the pinned default."""
    argv = ["--redis", "embedded", "--redis-image", "mirror.example.com/redis@sha256:"]
    argv[-1] += "a" * 64
    assert main([*argv, "--kind", "Deployment"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    redis = next(d for d in docs if d["metadata"]["name"] == "deerflow-redis")
    assert redis["spec"]["template"]["spec"]["containers"][0]["image"] == argv[-1]
