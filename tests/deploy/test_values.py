"""
The values file: the docs' sample round-trips and reaches the manifests, and every
invalid value exits 2 naming its path, file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from holysheep_client import ConfigError
from holysheep_client.deploy import ValuesConfig, as_dicts, check, reference_stack
from holysheep_client.deploy._cli import main

from .conftest import of_kind, one

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _sample() -> str:
    text = DOCS.read_text()
    return text.split("<!-- values-sample -->\n```yaml\n", 1)[1].split("```", 1)[0]


def _pod(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    pod: dict[str, Any] = one(docs, "Deployment", name)["spec"]["template"]
    return pod


def test_docs_sample_round_trips(tmp_path: Path) -> None:
    """The sample in docs/deploy.md loads, and to_dict gives back exactly the file's data."""
    path = tmp_path / "values.yaml"
    path.write_text(_sample())
    values = ValuesConfig.from_yaml(str(path))
    assert values.to_dict() == yaml.safe_load(_sample())
    assert ValuesConfig.model_validate(values.to_dict()) == values


def test_docs_sample_reaches_the_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`render --values` with the docs' sample puts every value where it belongs."""
    path = tmp_path / "values.yaml"
    path.write_text(_sample())
    assert main(["--values", str(path)]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    kinds = {d["kind"] for d in docs}
    assert "Namespace" not in kinds and "ResourceQuota" not in kinds
    assert {"ServiceMonitor", "ServiceEntry"} <= kinds
    assert {d["metadata"]["namespace"] for d in docs} == {"ai-prod"}
    for d in docs:
        assert d["metadata"]["labels"]["team"] == "ai-platform"
        assert d["metadata"]["labels"]["cost-center"] == "cc-4711"
        assert d["metadata"]["annotations"] == {"owner": "ai-platform@example.com"}
    template = _pod(docs, "deerflow-api-holysheep")
    pod, meta = template["spec"], template["metadata"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example.com/deerflow/deerflow-api:2.1.0"
    assert container["resources"] == {
        "limits": {"cpu": "3", "memory": "6Gi"},
        "requests": {"cpu": "1500m", "memory": "3Gi"},
    }
    assert pod["nodeSelector"] == {"pool": "llm"}
    assert pod["tolerations"] == [
        {
            "key": "dedicated",
            "operator": "Equal",
            "value": "llm",
            "effect": "NoSchedule",
        }
    ]
    assert meta["labels"]["team"] == "ai-platform"
    assert meta["annotations"]["sidecar.istio.io/proxyCPU"] == "200m"
    assert "prometheus.io/scrape" not in meta["annotations"]
    assert container["livenessProbe"]["initialDelaySeconds"] == 20
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["periodSeconds"] == 10
    assert container["startupProbe"]["failureThreshold"] == 30
    so = one(docs, "ScaledObject", "deerflow-api-holysheep")["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (3, 12)
    vs = one(docs, "VirtualService")["spec"]
    assert vs["gateways"] == ["mesh", "istio-ingress/public"]
    assert vs["hosts"] == ["deerflow-api", "api.example.com"]
    assert [d["weight"] for d in vs["http"][0]["route"]] == [75, 25]
    assert one(docs, "Deployment", "deerflow-redis")


def test_docs_sample_passes_check(tmp_path: Path, schemas: list[Path]) -> None:
    """The set rendered from the docs' sample has no error or warning."""
    path = tmp_path / "values.yaml"
    path.write_text(_sample())
    objects = reference_stack(values=ValuesConfig.from_yaml(str(path)))
    findings = check(objects, schemas=schemas)
    assert [str(f) for f in findings if f.severity != "info"] == []


def test_options_override_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command-line option wins over the values file; --exclude-kind adds to its list."""
    path = tmp_path / "values.yaml"
    path.write_text(
        "namespace: from-file\nautoscaler: keda\nexcludeKinds: [Namespace]\n"
    )
    argv = ["--values", str(path), "--namespace", "from-flag", "--autoscaler", "hpa"]
    assert main([*argv, "--exclude-kind", "ResourceQuota"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert {d["metadata"]["namespace"] for d in docs} == {"from-flag"}
    kinds = {d["kind"] for d in docs}
    assert "HorizontalPodAutoscaler" in kinds and "ScaledObject" not in kinds
    assert not kinds & {"Namespace", "ResourceQuota"}


def test_replicas_size_the_quota_and_scalers() -> None:
    """replicas.max drives the autoscalers and the quota; min the scalers and fallback."""
    docs = as_dicts(reference_stack(values=ValuesConfig(replicas={"min": 1, "max": 4})))
    so = one(docs, "ScaledObject", "deerflow-api-legacy")["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (1, 4)
    assert so["fallback"]["replicas"] == 3
    # 4 replicas + 1 surge + 4 terminating, per track.
    assert one(docs, "ResourceQuota")["spec"]["hard"]["pods"] == "18"


def test_big_limits_widen_the_limit_range() -> None:
    """Limits above the LimitRange's max raise the max instead of failing the pods."""
    values = ValuesConfig(resources={"limits": {"cpu": "16", "memory": "64Gi"}})
    docs = as_dicts(reference_stack(values=values))
    item = one(docs, "LimitRange")["spec"]["limits"][0]
    assert item["max"] == {"cpu": "16", "memory": "64Gi"}
    assert not [f for f in check(docs) if f.severity == "error"]


BAD = [
    (
        "resources:\n  requests:\n    cpu: lots\n",
        "resources.requests.cpu",
        3,
        "quantity",
    ),
    (
        "resources:\n  requests:\n    cpu: '6'\n",
        "resources.requests.cpu",
        3,
        "must not be above limits.cpu",
    ),
    ("nodeSelectr: {a: b}\n", "nodeSelectr", 1, "did you mean nodeSelector?"),
    ("replicas:\n  min: 5\n  max: 3\n", "replicas.min", 2, "must not be above max"),
    ("replicas:\n  mni: 5\n", "replicas.mni", 2, "did you mean min?"),
    (
        "tolerations:\n  - key: a\n    effect: Sometimes\n",
        "tolerations[0].effect",
        3,
        "NoSchedule",
    ),
    ("labels:\n  app: other\n", "labels.app", 2, "set by the stack"),
    ("labels:\n  team: 'not valid!'\n", "labels.team", 2, "label value"),
    ("gateway: istio-ingress/public\n", "hosts", 1, "needs at least one host"),
    ("hosts: [api.example.com]\n", "gateway", 1, "is required"),
    ("probes:\n  liveness:\n    port: admin\n", "probes.liveness.port", None, "admin"),
    ("probes:\n  liveness:\n    path: health\n", "probes.liveness.path", 3, "absolute"),
    (
        "probes:\n  liveness:\n    successThreshold: 2\n",
        "probes.liveness.successThreshold",
        3,
        "1",
    ),
    ("redis:\n  mode: external\n", "redis.url", 1, "required"),
    (
        "redis:\n  mode: external\n  url: redis://:pw@r:6379/0\n",
        "redis.url",
        3,
        "password",
    ),
    (
        "podAnnotations:\n  checksum/config: x\n",
        "podAnnotations.checksum/config",
        2,
        "stack",
    ),
    ("excludeKinds: [Gateway]\n", "excludeKinds[0]", None, "holds no Gateway"),
    ("namespace: Not_Valid\n", "namespace", 1, "DNS-1123"),
    ("- a list\n", "values", 1, "mapping"),
    ("a: [\n", "values", 2, "not valid YAML"),
]


@pytest.mark.parametrize(
    ("text", "path", "line", "reason"),
    BAD,
    ids=[
        "quantity",
        "requests-over-limits",
        "typo",
        "min-over-max",
        "nested-typo",
        "enum",
        "reserved-label",
        "label-value",
        "gateway-without-host",
        "host-without-gateway",
        "probe-port",
        "probe-path",
        "liveness-threshold",
        "external-without-url",
        "url-password",
        "reserved-annotation",
        "unknown-kind",
        "namespace",
        "not-a-mapping",
        "not-yaml",
    ],
)
def test_invalid_values_exit_2_naming_the_path(
    text: str,
    path: str,
    line: int | None,
    reason: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad value exits 2 with one line: its path, why, and the file and line."""
    file = tmp_path / "values.yaml"
    file.write_text(text)
    assert main(["--values", str(file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.count("\n") == 1
    assert f"error: {path}: " in err and reason in err
    if line is not None:
        assert f"({file}, line {line})" in err or "not valid YAML" in err
    assert "pw@" not in err


def test_values_errors_in_python_are_config_errors() -> None:
    """ValuesConfig raises ConfigError naming the path, never pydantic's error."""
    with pytest.raises(ConfigError) as info:
        ValuesConfig(tolerations=[{"key": "a", "operator": "Exists", "value": "x"}])
    assert info.value.field == "tolerations[0].value"
    with pytest.raises(ConfigError) as info:
        ValuesConfig(hosts=("*",), gateway="gw")
    assert info.value.field == "hosts[0]"


def test_empty_values_file_is_the_reference(tmp_path: Path) -> None:
    """An empty values file renders exactly the reference stack."""
    file = tmp_path / "values.yaml"
    file.write_text("# nothing set\n")
    values = ValuesConfig.from_yaml(str(file))
    assert as_dicts(reference_stack(values=values)) == as_dicts(reference_stack())
    assert len(of_kind(as_dicts(reference_stack(values=values)), "Deployment")) == 2
