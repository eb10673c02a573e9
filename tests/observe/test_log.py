"""
The package logger: only a NullHandler by default, a stderr handler with HOLYSHEEP_LOG.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from holysheep_client._observe.log import configure_logging

WARN = (
    "import logging, holysheep_client;"
    " logging.getLogger('holysheep_client').warning('breaker open');"
    " logging.getLogger('holysheep_client').debug('route chosen')"
)


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_without_holysheep_log_a_warning_prints_nothing() -> None:
    """An app that configures no logging sees no bare warning on stderr from us."""
    done = _run(WARN)
    assert done.returncode == 0
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("value", "shown", "hidden"),
    [
        pytest.param("debug", ["breaker open", "route chosen"], [], id="debug"),
        pytest.param("info", ["breaker open"], ["route chosen"], id="info"),
        pytest.param("INFO", ["breaker open"], ["route chosen"], id="case-blind"),
    ],
)
def test_holysheep_log_turns_the_logger_on(
    value: str, shown: list[str], hidden: list[str]
) -> None:
    """HOLYSHEEP_LOG=info|debug prints our records at that level on stderr, once each."""
    done = _run(WARN, HOLYSHEEP_LOG=value)
    assert done.returncode == 0
    for text in shown:
        assert done.stderr.count(text) == 1
        assert "holysheep_client" in done.stderr
    for text in hidden:
        assert text not in done.stderr


def test_an_unknown_value_is_ignored() -> None:
    """HOLYSHEEP_LOG=verbose adds no handler, as ANTHROPIC_LOG ignores unknown values."""
    target = logging.getLogger("holysheep_client.test.unknown")
    assert configure_logging({"HOLYSHEEP_LOG": "verbose"}, target=target) is None
    assert [type(h) for h in target.handlers] == [logging.NullHandler]


def test_the_handler_is_added_once() -> None:
    """Configuring twice keeps one NullHandler and one stderr handler."""
    target = logging.getLogger("holysheep_client.test.twice")
    first = configure_logging({"HOLYSHEEP_LOG": "debug"}, target=target)
    second = configure_logging({"HOLYSHEEP_LOG": "debug"}, target=target)
    assert first is second
    assert len(target.handlers) == 2
    assert target.level == logging.DEBUG
    assert target.propagate is False
