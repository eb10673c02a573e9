"""
Hostile config input, one behaviour per test: bounded linear-time durations, capped
YAML, clear encoding errors, Redis URLs checked up front, keys never echoed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holysheep_client import ClientConfig, ConfigError, SharedStateConfig, TimeoutConfig
from holysheep_client._config.files import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES
from holysheep_client._utils import MAX_DURATION, parse_duration

KEY = "sk-ant-api03-" + "a1B2" * 10


def test_a_huge_integer_duration_is_a_config_error() -> None:
    """TimeoutConfig(total=10**400) names the field instead of overflowing."""
    with pytest.raises(ConfigError) as info:
        TimeoutConfig(total=10**400)
    assert info.value.field == "total"
    assert "ten years" in info.value.reason


def test_durations_are_capped_at_ten_years() -> None:
    """Ten years is accepted, one second more is not."""
    assert parse_duration(int(MAX_DURATION)) == MAX_DURATION
    with pytest.raises(ValueError, match="ten years"):
        parse_duration(MAX_DURATION + 1)
    with pytest.raises(ValueError, match="ten years"):
        parse_duration("3651d")


def test_a_long_string_duration_is_refused_without_backtracking() -> None:
    """'1' + 40,000 spaces + 'x' is refused (the parser looks at 40 characters at most)."""
    with pytest.raises(ConfigError, match="duration like"):
        TimeoutConfig(total="1" + " " * 40_000 + "x")


def test_a_duration_string_is_read_up_to_40_characters() -> None:
    """Forty characters (padding included after stripping) parse; forty-one do not."""
    assert parse_duration("1" + " " * 38 + "s") == 1.0
    with pytest.raises(ValueError, match="duration like"):
        parse_duration("1" + " " * 39 + "s")


def test_a_400_digit_string_duration_is_refused() -> None:
    """A string of 400 digits is not a duration."""
    with pytest.raises(ConfigError, match="total"):
        TimeoutConfig(total="9" * 400)


@pytest.mark.parametrize(
    "text", ["90s", " 30 m ", "250ms", "1.5h", "0h", "7d"], ids=str.strip
)
def test_durations_still_accept_units_and_spaces(text: str) -> None:
    """The bounded parser still reads every documented form."""
    assert parse_duration(text) >= 0


def test_yaml_over_one_mib_is_refused(tmp_path: Path) -> None:
    """A file larger than 1 MiB is refused before it is parsed."""
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ConfigError, match="larger than 1 MiB") as info:
        ClientConfig.from_yaml(path)
    assert info.value.field == "path"


def test_yaml_of_exactly_one_mib_is_read(tmp_path: Path) -> None:
    """The cap is inclusive: a 1 MiB file is parsed (and here fails as a config)."""
    path = tmp_path / "edge.yaml"
    body = "providers: []\n"
    path.write_text(body + "#" * (MAX_YAML_BYTES - len(body) - 1) + "\n")
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_yaml(path)
    assert info.value.field == "providers"


@pytest.mark.parametrize(
    ("depth", "refused"),
    [(MAX_DEPTH, False), (MAX_DEPTH + 1, True), (5000, True)],
    ids=["at-cap", "over-cap", "5000-deep"],
)
def test_yaml_depth_is_capped(tmp_path: Path, depth: int, refused: bool) -> None:
    """Nesting beyond the cap is a ConfigError naming the depth, not a RecursionError."""
    path = tmp_path / "deep.yaml"
    lists = depth - 1  # the top-level mapping is the first level
    path.write_text("x: " + "[" * lists + "]" * lists + "\n")
    with pytest.raises(ConfigError) as info:
        ClientConfig.from_yaml(path)
    assert ("nests deeper" in info.value.reason) is refused


def test_yaml_alias_bombs_are_refused(tmp_path: Path) -> None:
    """Aliases that expand past the node cap are refused before they are built."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=f"more than {MAX_NODES}"):
        ClientConfig.from_yaml(path)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("providers: []\n".encode("utf-16"), "UTF-16"),
        ("providers: []\n".encode("utf-16-le"), "NUL bytes"),
        (b"providers: [\xff\xfe\xfa]\n", "not UTF-8"),
    ],
    ids=["utf-16-bom", "utf-16-no-bom", "latin-1"],
)
def test_non_utf8_yaml_gives_a_clear_error(
    tmp_path: Path, raw: bytes, words: str
) -> None:
    """Bytes that are not UTF-8 give a ConfigError saying so, not a UnicodeDecodeError."""
    path = tmp_path / "config.yaml"
    path.write_bytes(raw)
    with pytest.raises(ConfigError, match=words) as info:
        ClientConfig.from_yaml(path)
    assert info.value.field == "path"


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 file with a byte-order mark (as some editors save it) reads as usual."""
    path = tmp_path / "config.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfproviders:\n- {name: a, base_url: 'https://a/v1', api_key: k}\n"
    )
    assert ClientConfig.from_yaml(path).providers[0].name == "a"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("redis://:hunter2@redis:port/0", "port must be a number"),
        ("redis://:hunter2@redis:70000/0", "port must be a number"),
        ("redis://:hunter2@:6379/0", "expected a host"),
        ("redis://:hunter2@redis:6379/zero", "database number"),
        ("redis://:hunter2@redis:6379/0?db=one", "db query parameter"),
        ("redis://:hunter2@redis 1:6379/0", "without spaces"),
        ("unix://", "socket's path"),
        ("memcached://:hunter2@redis:6379", "redis://"),
    ],
    ids=["port", "port-range", "host", "db", "db-query", "space", "unix", "scheme"],
)
def test_redis_urls_are_validated_up_front(url: str, words: str) -> None:
    """A bad Redis URL is a ConfigError at configuration time, never echoing its password."""
    with pytest.raises(ConfigError, match=words) as info:
        SharedStateConfig(url=url)
    assert info.value.field == "url"
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://:pw@cache.internal",
        "unix:///run/redis.sock",
    ],
)
def test_good_redis_urls_pass(url: str) -> None:
    """The usual redis://, rediss:// and unix:// forms are accepted."""
    SharedStateConfig(url=url)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (KEY, "looks like an API key"),
        ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "looks like an API key"),
        ("HOLYSHEEP API KEY", "environment variable name"),
        ("1KEY", "environment variable name"),
        ("K" * 129, "environment variable name"),
    ],
    ids=["vendor-key", "hex-key", "space", "digit-first", "too-long"],
)
def test_api_key_env_must_be_a_variable_name(value: str, words: str) -> None:
    """A value that is not a variable name, or looks like a key, is refused unechoed."""
    data = {
        "providers": [{"name": "a", "base_url": "https://a/v1", "api_key_env": value}]
    }
    with pytest.raises(ConfigError, match=words) as info:
        ClientConfig.model_validate(data, context={"environ": {value: "k"}})
    assert info.value.field == "providers.0.api_key_env"
    assert value not in str(info.value)
    assert value not in repr(info.value)


def test_a_key_pasted_as_a_seed_api_key_ref_is_refused_unechoed(tmp_path: Path) -> None:
    """The seed shape's api_key_ref holding a key is refused, naming its path only."""
    path = tmp_path / "seed.yaml"
    path.write_text(
        f"api_configs:\n  hs:\n    base_url: https://a/v1\n    api_key_ref: {KEY}\n"
    )
    with pytest.raises(ConfigError, match="looks like an API key") as info:
        ClientConfig.from_yaml(path, environ={})
    assert info.value.field == "api_configs.hs.api_key_ref"
    assert KEY not in str(info.value)
