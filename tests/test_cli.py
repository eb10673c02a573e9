"""
The package's command lines: --help and --version on each, and the console script's name.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import holysheep_client
from holysheep_client._cli import MODULE_PROG, program_name
from holysheep_client._cli import main as client_main
from holysheep_client.testing._cli import PROG as TESTING_PROG
from holysheep_client.testing._cli import main as fake_server_main

Main = Callable[[Sequence[str]], int]
CLIS = [
    pytest.param(
        lambda argv: client_main(argv, prog=MODULE_PROG), MODULE_PROG, id="client"
    ),
    pytest.param(fake_server_main, TESTING_PROG, id="testing"),
]


@pytest.mark.parametrize(("main", "prog"), CLIS)
def test_version_prints_the_program_and_the_package_version(
    main: Main, prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--version prints the program's name and the package version, exit 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"{prog} {holysheep_client.__version__}\n"


@pytest.mark.parametrize(("main", "prog"), CLIS)
def test_help_lists_the_commands(
    main: Main, prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--help prints the usage under the program's name and lists its commands."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {prog} ")
    assert "--version" in out
    assert ("demo" if prog == MODULE_PROG else "serve") in out


def test_demo_help_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    """demo --help lists the demo's options."""
    assert client_main(["demo", "--help"], prog=MODULE_PROG) == 0
    out = capsys.readouterr().out
    for option in ("--phase-seconds", "--concurrency", "--no-outage", "--seed"):
        assert option in out


@pytest.mark.parametrize(
    "argv",
    [["demo", "--phase-seconds", "0"], ["demo", "--concurrency", "x"], []],
    ids=["out-of-range", "not-a-number", "no-command"],
)
def test_usage_errors_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad option or a missing command is a usage error: exit 2, message on stderr."""
    assert client_main(argv, prog=MODULE_PROG) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv0", "expected"),
    [
        pytest.param(
            "/venv/bin/holysheep-client", "holysheep-client", id="console-script"
        ),
        pytest.param("/src/holysheep_client/__main__.py", MODULE_PROG, id="module"),
        pytest.param("-c", MODULE_PROG, id="dash-c"),
    ],
)
def test_program_name_is_the_command_that_ran(argv0: str, expected: str) -> None:
    """The console script reports its own name; `python -m` reports the module form."""
    assert program_name(argv0) == expected


def test_the_installed_console_script_reports_its_own_name() -> None:
    """`holysheep-client --version` from the venv says holysheep-client, not python -m."""
    script = Path(sys.executable).with_name("holysheep-client")
    if not script.exists():
        pytest.skip("the package is not installed with its console script here")
    done = subprocess.run(
        [str(script), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == f"holysheep-client {holysheep_client.__version__}\n"


def test_python_m_reports_the_module_form() -> None:
    """`python -m holysheep_client --version` names itself that way."""
    done = subprocess.run(
        [sys.executable, "-m", "holysheep_client", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == f"{MODULE_PROG} {holysheep_client.__version__}\n"
