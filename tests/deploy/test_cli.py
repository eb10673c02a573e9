"""
The command line: render by default, options, help, and one-line errors with exit 2.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

import holysheep_client
from holysheep_client.deploy import RULES
from holysheep_client.deploy._cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy_dump.py"


def test_render_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the reference manifests are printed as YAML."""
    assert main([]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert docs[0]["kind"] == "Namespace"
    assert main(["render"]) == 0
    assert list(yaml.safe_load_all(capsys.readouterr().out)) == docs


def test_top_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """--help is short: usage, one line per command, and how to get a command's help."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "usage: python -m holysheep_client.deploy [COMMAND] [options]"
    )
    lines = out.splitlines()
    for command in ("render", "shift", "check"):
        assert sum(line.startswith(f"  {command} ") for line in lines) == 1, command
    assert "COMMAND --help" in out
    assert "--namespace" not in out and "--schemas" not in out
    assert max(len(line) for line in lines) <= 88


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the program and the package version, exit 0."""
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out == f"python -m holysheep_client.deploy {holysheep_client.__version__}\n"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (
            "render",
            [
                "--config",
                "--values",
                "--namespace",
                "--image",
                "--autoscaler",
                "--holysheep-weight",
                "--scrape",
                "--exclude-kind",
                "--secret-from-env",
                "--gateway",
                "--host",
                "--redis",
                "--redis-url",
                "--redis-image",
                "--format",
                "--out",
                "--kind",
            ],
        ),
        (
            "shift",
            ["--weight", "--phase", "--config", "--namespace", "--from", "--kubectl"],
        ),
        (
            "check",
            ["FILE", "--schemas", "--kube-version", "--disable", "--format", "rules:"],
        ),
    ],
    ids=["render", "shift", "check"],
)
def test_command_help_lists_its_options(
    command: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """COMMAND --help prints that command's usage and every one of its options."""
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m holysheep_client.deploy {command} ")
    for option in options:
        assert option in out, option
    assert max(len(line) for line in out.splitlines()) <= 88


def test_check_help_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """check --help names every rule id."""
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {rule} " in out for rule in RULES)


@pytest.mark.parametrize(
    "argv",
    [
        ["--autoscaler", "vpa"],
        ["--holysheep-weight", "150"],
        ["--format", "xml"],
        ["--kind", "Bogus"],
        ["--namespace", "Not_Valid"],
        ["--no-such-option"],
        ["shift"],
        ["check"],
        ["check", "x.yaml", "--disable", "no-such-rule"],
    ],
    ids=[
        "autoscaler",
        "weight",
        "format",
        "kind",
        "namespace",
        "unknown",
        "shift-needs-weight",
        "check-needs-files",
        "rule",
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A bad option exits 2 and prints one line saying why, nothing on stdout."""
    if argv[:2] == ["check", "x.yaml"]:
        path = tmp_path / "x.yaml"
        path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
        argv = ["check", str(path), *argv[2:]]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith(
        "python -m holysheep_client.deploy: error:"
    )
    assert captured.out == ""


def test_options_reach_the_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    """Namespace, image, autoscaler and weight options shape the output."""
    argv = [
        "--namespace",
        "ai",
        "--image",
        "reg/app:9",
        "--autoscaler",
        "hpa",
        "--holysheep-weight",
        "30",
    ]
    assert main(argv) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert {d["metadata"].get("namespace", d["metadata"]["name"]) for d in docs} == {
        "ai"
    }
    kinds = {d["kind"] for d in docs}
    assert "HorizontalPodAutoscaler" in kinds and "ScaledObject" not in kinds
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/app:9"
    )
    vs = next(d for d in docs if d["kind"] == "VirtualService")
    assert [d["weight"] for d in vs["spec"]["http"][0]["route"]] == [70, 30]


def test_json_and_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints a List; --kind keeps only that kind."""
    assert main(["--format", "json", "--kind", "deployment"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "List"
    assert {i["kind"] for i in data["items"]} == {"Deployment"}


def test_out_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out DIR writes one file per object and lists them."""
    assert main(["--out", str(tmp_path / "m"), "--format", "json"]) == 0
    listed = capsys.readouterr().out.split()
    assert sorted(listed) == sorted(str(p) for p in (tmp_path / "m").iterdir())
    assert json.loads(Path(listed[0]).read_text())["kind"] == "Namespace"


def test_secret_from_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--secret-from-env renders the named key from the environment and warns on stderr."""
    monkeypatch.setenv("HOLYSHEEP_API_KEY", "test-key-from-env")
    assert main(["--secret-from-env", "HOLYSHEEP_API_KEY", "--kind", "Secret"]) == 0
    captured = capsys.readouterr()
    secret = next(yaml.safe_load_all(captured.out))
    assert secret["stringData"] == {"holysheep-api-key": "test-key-from-env"}
    assert "never commit" in captured.err


def test_secret_from_unset_env_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Naming an unset variable exits 2 without rendering anything."""
    monkeypatch.delenv("LEGACY_API_KEY", raising=False)
    assert main(["--secret-from-env", "LEGACY_API_KEY"]) == 2
    captured = capsys.readouterr()
    assert "LEGACY_API_KEY" in captured.err and captured.out == ""


def test_default_render_never_holds_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keys in the environment never reach the output unless asked for."""
    monkeypatch.setenv("HOLYSHEEP_API_KEY", "test-secret-value-1")
    monkeypatch.setenv("LEGACY_API_KEY", "test-secret-value-2")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "test-secret-value" not in out and "kind: Secret" not in out


def test_config_option_reads_the_seed_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config accepts the seed's config.yaml shape without any key in the environment."""
    text = (Path(__file__).parent / "data" / "seed-manifests.yaml").read_text()
    seed = next(d for d in yaml.safe_load_all(text) if d["kind"] == "ConfigMap")
    path = tmp_path / "config.yaml"
    path.write_text(seed["data"]["config.yaml"])
    assert main(["--config", str(path), "--kind", "VirtualService"]) == 0
    vs = yaml.safe_load(capsys.readouterr().out.split("---", 1)[1])
    assert [d["weight"] for d in vs["spec"]["http"][0]["route"]] == [100, 0]


def test_module_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m holysheep_client.deploy` runs the same main."""
    monkeypatch.setattr(sys, "argv", ["deploy", "shift", "--weight", "5"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("holysheep_client.deploy", run_name="__main__")
    assert info.value.code == 0
    assert json.loads(capsys.readouterr().out)[-1]["value"] == 5


def test_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/deploy_dump.py builds and prints the reference stack."""
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "kind: Deployment" in out and "kind: VirtualService" in out


def test_docs_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The Python snippet in docs/deploy.md runs as written."""
    text = (EXAMPLE.parents[1] / "docs" / "deploy.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(snippet, "docs/deploy.md", "exec"), {})
    assert "kind: VirtualService" in capsys.readouterr().out


def test_check_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check --format json` prints the findings as a JSON array."""
    assert main(["--format", "json", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    files = sorted(str(p) for p in tmp_path.iterdir())
    assert main(["check", *files, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["severity"] for r in rows} == {"warning", "info"}
