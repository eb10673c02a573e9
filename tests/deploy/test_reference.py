"""
The reference stack keeps the seed's intent and values with its defects fixed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from holysheep_client import ClientConfig, ConfigError
from holysheep_client.deploy import (
    ValuesConfig,
    as_dicts,
    reference_config,
    reference_stack,
    render,
    split_weights,
    track_config,
)
from holysheep_client.deploy._plan import with_deadline

from .conftest import of_kind, one

KEYS = {"LEGACY_API_KEY": "test-legacy", "HOLYSHEEP_API_KEY": "test-holysheep"}


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def test_namespace_and_kinds(stack: list[dict[str, Any]]) -> None:
    """Every namespaced object lives in deerflow-prod and the set holds what it needs."""
    kinds = {d["kind"] for d in stack}
    assert kinds >= {
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ScaledObject",
        "ConfigMap",
        "VirtualService",
        "NetworkPolicy",
        "ServiceAccount",
    }
    assert one(stack, "Namespace")["metadata"]["name"] == "deerflow-prod"
    assert {
        d["metadata"].get("namespace") for d in stack if d["kind"] != "Namespace"
    } == {"deerflow-prod"}


@pytest.mark.parametrize(
    ("autoscaler", "kind", "absent"),
    [
        ("keda", "ScaledObject", "HorizontalPodAutoscaler"),
        ("hpa", "HorizontalPodAutoscaler", "ScaledObject"),
    ],
    ids=["keda", "hpa"],
)
def test_exactly_one_autoscaler_per_deployment(
    autoscaler: str, kind: str, absent: str
) -> None:
    """Each Deployment has exactly one autoscaler, of the kind the option chose."""
    docs = as_dicts(reference_stack(autoscaler=autoscaler))  # type: ignore[arg-type]
    assert not of_kind(docs, absent)
    targets = sorted(s["spec"]["scaleTargetRef"]["name"] for s in of_kind(docs, kind))
    assert targets == sorted(d["metadata"]["name"] for d in of_kind(docs, "Deployment"))


def test_no_fixed_replicas(stack: list[dict[str, Any]]) -> None:
    """No Deployment sets spec.replicas, which would fight the autoscaler on apply."""
    assert all("replicas" not in d["spec"] for d in of_kind(stack, "Deployment"))


def test_seed_values_kept(stack: list[dict[str, Any]]) -> None:
    """Image, ports, resources, probes, preStop, placement and scaling keep the seed's values."""
    deployment = one(stack, "Deployment", "deerflow-api-holysheep")
    pod = _pod(deployment)
    c = pod["containers"][0]
    assert c["image"] == "deerflow/deerflow-api:2.0.3"
    assert [(p["name"], p["containerPort"]) for p in c["ports"]] == [
        ("http", 8000),
        ("metrics", 9090),
    ]
    assert c["resources"] == {
        "limits": {"cpu": "4", "memory": "8Gi"},
        "requests": {"cpu": "2", "memory": "4Gi"},
    }
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["lifecycle"]["preStop"]["exec"]["command"][-1] == "sleep 10"
    assert pod["nodeSelector"] == {"workload-type": "ai-inference"}
    assert pod["tolerations"] == [
        {"key": "ai-pool", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert (
        pod["topologySpreadConstraints"][0]["topologyKey"]
        == "topology.kubernetes.io/zone"
    )
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "25%",
        "maxUnavailable": 0,
    }
    so = one(stack, "ScaledObject", "deerflow-api-holysheep")["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (2, 20)
    triggers = {t["type"]: t for t in so["triggers"]}
    assert triggers["cpu"]["metadata"] == {"value": "70"}
    assert triggers["memory"]["metadata"] == {"value": "75"}
    assert triggers["prometheus"]["metadata"]["threshold"] == "100"
    behavior = so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["policies"] == [
        {"type": "Percent", "value": 100, "periodSeconds": 15}
    ]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_hpa_keeps_seed_targets() -> None:
    """The plain HPA option keeps the seed's CPU 70% and memory 80% targets and bounds."""
    hpa = one(
        as_dicts(reference_stack(autoscaler="hpa")),
        "HorizontalPodAutoscaler",
        "deerflow-api-legacy",
    )
    spec = hpa["spec"]
    targets = {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in spec["metrics"]
    }
    assert targets == {"cpu": 70, "memory": 80}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 20)


def test_env_mounts_both_keys_and_config(stack: list[dict[str, Any]]) -> None:
    """Pods get both keys from the Secret, the seed's env names, and the ConfigMap as a file."""
    pod = _pod(one(stack, "Deployment", "deerflow-api-holysheep"))
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["HOLYSHEEP_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "key": "holysheep-api-key",
        "name": "deerflow-secrets",
    }
    assert env["LEGACY_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "key": "legacy-api-key",
        "name": "deerflow-secrets",
    }
    assert env["DEERFLOW_BASE_URL"]["value"] == "https://api.holysheep.ai/v1"
    assert env["MAX_CONCURRENT_REQUESTS"]["value"] == "50"
    assert env["REQUEST_TIMEOUT"]["value"] == "30"
    mount = pod["containers"][0]["volumeMounts"][0]
    assert env["HOLYSHEEP_CONFIG"]["value"] == f"{mount['mountPath']}/config.yaml"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "deerflow-api-holysheep-config"


def test_grace_period_covers_prestop_and_request(stack: list[dict[str, Any]]) -> None:
    """The grace period outlasts the preStop sleep plus one full request."""
    for d in of_kind(stack, "Deployment"):
        assert _pod(d)["terminationGracePeriodSeconds"] >= 10 + 30


@pytest.mark.parametrize("track", ["legacy", "holysheep"])
def test_config_round_trips(
    stack: list[dict[str, Any]], track: str, tmp_path: Path
) -> None:
    """Each ConfigMap's config.yaml loads back with ClientConfig.from_yaml to the track's config."""
    text = one(stack, "ConfigMap", f"deerflow-api-{track}-config")["data"][
        "config.yaml"
    ]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    loaded = ClientConfig.from_yaml(path, environ=KEYS)
    expected = track_config(with_deadline(reference_config()), track)
    assert loaded.to_dict() == expected.to_dict()
    assert {p.name: p.weight for p in loaded.providers}[track] == 100
    assert loaded.provider("legacy").api_key_env == "LEGACY_API_KEY"


def test_checksum_follows_the_config(stack: list[dict[str, Any]]) -> None:
    """The pod template's checksum is the ConfigMap's, and a config change changes it."""
    data = one(stack, "ConfigMap", "deerflow-api-legacy-config")["data"]
    expected = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    annotations = one(stack, "Deployment", "deerflow-api-legacy")["spec"]["template"][
        "metadata"
    ]["annotations"]
    assert annotations["checksum/config"] == expected
    changed = reference_config().model_copy(update={"max_concurrent_requests": 80})
    other = one(as_dicts(reference_stack(changed)), "Deployment", "deerflow-api-legacy")
    assert (
        other["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        != expected
    )


def test_no_secret_by_default(stack: list[dict[str, Any]]) -> None:
    """By default no Secret is rendered; the pods reference an existing one."""
    assert not of_kind(stack, "Secret")


def test_secret_only_when_asked_by_name() -> None:
    """A Secret is rendered only for the variables named, with their values from environ."""
    docs = as_dicts(
        reference_stack(secret_from_env=["HOLYSHEEP_API_KEY"], environ=KEYS)
    )
    secret = one(docs, "Secret")
    assert secret["stringData"] == {"holysheep-api-key": "test-holysheep"}
    assert "test-legacy" not in render(docs)


@pytest.mark.parametrize(
    ("names", "environ", "field"),
    [(["OTHER"], KEYS, "secret_from_env"), (["LEGACY_API_KEY"], {}, "LEGACY_API_KEY")],
    ids=["not-a-provider-key", "unset"],
)
def test_secret_from_env_errors(
    names: list[str], environ: dict[str, str], field: str
) -> None:
    """Naming a variable no provider uses, or one that is unset, is a ConfigError."""
    with pytest.raises(ConfigError) as info:
        reference_stack(secret_from_env=names, environ=environ)
    assert info.value.field == field


def test_weights_from_config_and_option() -> None:
    """The split follows the config's weights by default and the option when given."""
    assert split_weights(reference_config()) == {"legacy": 100, "holysheep": 0}
    vs = one(as_dicts(reference_stack(holysheep_weight=25)), "VirtualService")
    route = vs["spec"]["http"]
    assert len(route) == 1
    assert [(d["destination"]["host"], d["weight"]) for d in route[0]["route"]] == [
        ("deerflow-api-legacy", 75),
        ("deerflow-api-holysheep", 25),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"holysheep_weight": 101}, "holysheep_weight"),
        ({"namespace": "Bad_Name"}, "namespace"),
        ({"autoscaler": "vpa"}, "autoscaler"),
        ({"image": "two words"}, "image"),
    ],
    ids=["weight", "namespace", "autoscaler", "image"],
)
def test_bad_options(kwargs: dict[str, Any], field: str) -> None:
    """Invalid options raise ConfigError naming the option."""
    with pytest.raises(ConfigError) as info:
        reference_stack(**kwargs)
    assert info.value.field == field


def test_literal_key_is_never_written() -> None:
    """A config holding a literal api_key cannot be rendered, so the key never leaks."""
    config = ClientConfig(
        providers=[
            {
                "name": "holysheep",
                "base_url": "https://api.holysheep.ai/v1",
                "api_key": "sk-literal-123",
            }
        ]
    )
    with pytest.raises(ConfigError):
        reference_stack(config)


def test_entry_service_has_no_pods_of_its_own(stack: list[dict[str, Any]]) -> None:
    """The host Service deerflow-api selects no pods, so only the mesh routes it."""
    front = one(stack, "Service", "deerflow-api")
    assert "selector" not in front["spec"]
    assert [p["port"] for p in front["spec"]["ports"]] == [8000]


def test_split_is_bound_to_the_mesh(stack: list[dict[str, Any]]) -> None:
    """The VirtualService names the reserved gateway mesh explicitly."""
    spec = one(stack, "VirtualService")["spec"]
    assert spec["gateways"] == ["mesh"] and spec["hosts"] == ["deerflow-api"]


def test_gateway_binds_the_same_split() -> None:
    """A gateway joins the mesh in gateways, its hosts join the VirtualService's."""
    values = ValuesConfig(gateway="istio-ingress/public", hosts=("api.example.com",))
    docs = as_dicts(reference_stack(values=values))
    spec = one(docs, "VirtualService")["spec"]
    assert spec["gateways"] == ["mesh", "istio-ingress/public"]
    assert spec["hosts"] == ["deerflow-api", "api.example.com"]
    assert len(spec["http"]) == 1
    peers = one(docs, "NetworkPolicy", "deerflow-api")["spec"]["ingress"][0]["from"]
    assert {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "istio-ingress"}
        }
    } in peers


@pytest.mark.parametrize(
    "argv",
    [["--gateway", "istio-ingress/public"], ["--host", "api.example.com"]],
    ids=["gateway-without-host", "host-without-gateway"],
)
def test_gateway_and_host_go_together(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """--gateway needs --host and --host needs --gateway: exit 2 naming the missing one."""
    from holysheep_client.deploy._cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert ("hosts:" in err) if argv[0] == "--gateway" else ("gateway:" in err)


def test_network_policy_admits_only_sidecars_on_the_app_port(
    stack: list[dict[str, Any]],
) -> None:
    """Port 8000 is open to pods with Istio's sidecar label, not to every namespace."""
    rules = one(stack, "NetworkPolicy", "deerflow-api")["spec"]["ingress"]
    app = next(r for r in rules if r["ports"] == [{"protocol": "TCP", "port": 8000}])
    assert app["from"] == [
        {
            "podSelector": {"matchLabels": {"security.istio.io/tlsMode": "istio"}},
            "namespaceSelector": {},
        }
    ]


def test_a_service_entry_per_provider_host(stack: list[dict[str, Any]]) -> None:
    """Each provider host gets a MESH_EXTERNAL ServiceEntry on its HTTPS port."""
    entries = {d["spec"]["hosts"][0]: d["spec"] for d in of_kind(stack, "ServiceEntry")}
    assert set(entries) == {"api.holysheep.ai", "api.legacy-vendor.com"}
    for spec in entries.values():
        assert spec["ports"] == [{"number": 443, "protocol": "HTTPS", "name": "https"}]
        assert (spec["location"], spec["resolution"]) == ("MESH_EXTERNAL", "DNS")
        assert spec["exportTo"] == ["."]


def test_in_cluster_and_custom_port_hosts() -> None:
    """In-cluster and IP hosts get no ServiceEntry; a custom port and an external Redis do."""
    data = {
        "providers": [
            {
                "name": "legacy",
                "base_url": "https://relay.example.com:8443/v1",
                "api_key_env": "A",
            },
            {
                "name": "holysheep",
                "base_url": "https://10.0.0.7/v1",
                "api_key_env": "B",
            },
            {
                "name": "local",
                "base_url": "https://llm.ai.svc.cluster.local/v1",
                "api_key_env": "C",
            },
        ],
        "migration": {
            "source": "legacy",
            "target": "holysheep",
            "phases": [{"name": "x", "weight": 5}],
        },
    }
    from holysheep_client.deploy._plan import NoKeys

    config = ClientConfig.model_validate(data, context={"environ": NoKeys()})
    docs = as_dicts(
        reference_stack(
            config, redis="external", redis_url="rediss://cache.example.net:6380/0"
        )
    )
    entries = {
        d["spec"]["hosts"][0]: d["spec"]["ports"] for d in of_kind(docs, "ServiceEntry")
    }
    assert entries == {
        "cache.example.net": [{"number": 6380, "protocol": "TLS", "name": "tls-6380"}],
        "relay.example.com": [
            {"number": 8443, "protocol": "HTTPS", "name": "https-8443"}
        ],
    }


def test_grace_period_covers_the_whole_call(stack: list[dict[str, Any]]) -> None:
    """3 attempts of 30 s plus backoffs (91.5 s) go into the config; grace and drain follow."""
    for track in ("legacy", "holysheep"):
        text = one(stack, "ConfigMap", f"deerflow-api-{track}-config")["data"][
            "config.yaml"
        ]
        assert yaml.safe_load(text)["timeout"]["total"] == 91.5
    deployment = one(stack, "Deployment", "deerflow-api-legacy")
    template = deployment["spec"]["template"]
    assert template["spec"]["terminationGracePeriodSeconds"] == 10 + 92 + 20
    drain = json.loads(template["metadata"]["annotations"]["proxy.istio.io/config"])
    assert drain == {"terminationDrainDuration": "107s"}


def test_a_configured_total_is_kept() -> None:
    """A config with timeout.total keeps it, and the grace period follows it."""
    config = reference_config()
    config = config.model_copy(
        update={"timeout": config.timeout.model_copy(update={"total": 45.0})}
    )
    docs = as_dicts(reference_stack(config))
    text = one(docs, "ConfigMap", "deerflow-api-legacy-config")["data"]["config.yaml"]
    assert yaml.safe_load(text)["timeout"]["total"] == 45.0
    pod = one(docs, "Deployment", "deerflow-api-legacy")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 75


def test_quota_has_room_for_a_rollout_at_max_scale(stack: list[dict[str, Any]]) -> None:
    """Per track: 20 replicas, 5 surge and up to 20 old pods terminating, sidecars counted."""
    hard = one(stack, "ResourceQuota")["spec"]["hard"]
    assert hard == {
        "requests.cpu": "189",
        "requests.memory": "372Gi",
        "limits.cpu": "450",
        "limits.memory": "765Gi",
        "pods": "90",
    }


@pytest.mark.parametrize(
    ("scrape", "annotated", "monitor"),
    [
        ("annotations", True, False),
        ("servicemonitor", False, True),
        ("none", False, False),
    ],
)
def test_scrape_option(scrape: str, annotated: bool, monitor: bool) -> None:
    """The metrics KEDA scales on are scraped by annotation, a ServiceMonitor, or neither."""
    docs = as_dicts(reference_stack(values=ValuesConfig(scrape=scrape)))  # type: ignore[arg-type]
    meta = one(docs, "Deployment", "deerflow-api-legacy")["spec"]["template"][
        "metadata"
    ]
    assert (meta["annotations"].get("prometheus.io/port") == "9090") is annotated
    monitors = of_kind(docs, "ServiceMonitor")
    assert bool(monitors) is monitor
    if monitor:
        assert monitors[0]["spec"]["endpoints"][0]["port"] == "metrics"


def test_exclude_kinds() -> None:
    """Kinds the platform owns can be left out; an unknown kind is a ConfigError."""
    docs = as_dicts(
        reference_stack(
            values=ValuesConfig(exclude_kinds=("namespace", "ResourceQuota"))
        )
    )
    assert not of_kind(docs, "Namespace") and not of_kind(docs, "ResourceQuota")
    with pytest.raises(ConfigError) as info:
        reference_stack(values=ValuesConfig(exclude_kinds=("Ingress",)))
    assert info.value.field == "excludeKinds[0]"
