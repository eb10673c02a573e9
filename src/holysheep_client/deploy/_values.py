"""
The render options as a values file, the way Helm charts take them: replicas,
resources, placement, labels, probes, image, namespace, mesh and scrape settings.

Keys are camelCase, as in Kubernetes and Helm values; Python attributes are
snake_case. Every key is optional. A key you set replaces its default, except inside
``replicas``, ``resources.requests``, ``resources.limits``, ``probes.*`` and
``redis``, where each sub-key you leave out keeps its default.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from ..errors import ConfigError
from ._names import (
    check_host,
    check_label_key,
    check_label_value,
    check_name,
    is_dns_label,
    is_dns_subdomain,
)
from ._rollout import SIDECAR_ANNOTATIONS
from ._units import parse_quantity
from ._values_base import (
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    REDIS_IMAGE,
    RESERVED_LABELS,
    RESERVED_POD_ANNOTATIONS,
    Values,
    format_path,
    parse_path,
)
from ._values_parts import (
    ProbeConfig,
    ProbesConfig,
    RedisDeployConfig,
    ReplicasConfig,
    ResourcesConfig,
    TolerationConfig,
)

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_NAMESPACE",
    "REDIS_IMAGE",
    "ProbeConfig",
    "ProbesConfig",
    "RedisDeployConfig",
    "ReplicasConfig",
    "ResourcesConfig",
    "TolerationConfig",
    "ValuesConfig",
    "known_keys",
    "line_of",
    "load_values",
]


_DEFAULT_TOLERATIONS = (
    TolerationConfig(key="ai-pool", operator="Exists", effect="NoSchedule"),
)


class ValuesConfig(Values):
    """
    Every render option of the reference stack, as a values file holds them.

    Build one in Python (``ValuesConfig(replicas={"min": 3})``), or read a file with
    `ValuesConfig.from_yaml` or ``--values FILE``; ``to_dict()`` writes back the keys
    that were set.

    .. versionadded:: 0.2.0
    """

    namespace: str = DEFAULT_NAMESPACE
    image: str = DEFAULT_IMAGE
    autoscaler: Literal["keda", "hpa"] = "keda"
    holysheep_weight: int | None = Field(None, ge=0, le=100)
    replicas: ReplicasConfig = ReplicasConfig()
    resources: ResourcesConfig = ResourcesConfig()
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"workload-type": "ai-inference"}
    )
    tolerations: tuple[TolerationConfig, ...] = _DEFAULT_TOLERATIONS
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    pod_annotations: dict[str, str] = Field(default_factory=dict)
    probes: ProbesConfig = ProbesConfig()
    gateway: str | None = None
    hosts: tuple[str, ...] = ()
    scrape: Literal["annotations", "servicemonitor", "none"] = "annotations"
    redis: RedisDeployConfig = RedisDeployConfig()
    migration: Literal["mesh", "client"] = "mesh"
    exclude_kinds: tuple[str, ...] = ()

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_name("", value)

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError("expected an image reference without spaces")
        return value

    @field_validator("node_selector", "labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            check_label_key(key, key)
            check_label_value(key, str(text))
        return value

    @field_validator("annotations", "pod_annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            check_label_key(key, key)
        return value

    @field_validator("pod_annotations")
    @classmethod
    def _pod_annotations(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if key in RESERVED_POD_ANNOTATIONS:
                raise ConfigError(
                    key, "is set by the stack itself (config rollouts, sidecar drain)"
                )
            if key in SIDECAR_ANNOTATIONS.values():
                try:
                    parse_quantity(text)
                except ValueError:
                    raise ConfigError(
                        key, "expected a quantity such as '500m' or '4Gi'"
                    ) from None
        return value

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        if value is None:
            return None
        namespace, _, name = value.rpartition("/")
        if (namespace and not is_dns_label(namespace)) or not is_dns_subdomain(name):
            raise ConfigError(
                "",
                "expected [NAMESPACE/]NAME of an Istio Gateway, e.g. istio-ingress/public",
            )
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, host in enumerate(value):
            if host == "*":
                raise ConfigError(f"[{i}]", "'*' would route every host to the app")
            check_host(f"[{i}]", host)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for key in self.labels:
            if key in RESERVED_LABELS:
                raise ConfigError(
                    f"labels.{key}",
                    "is set by the stack itself (selectors and the mesh use it)",
                )
        if self.gateway and not self.hosts:
            raise ConfigError(
                "hosts",
                "needs at least one host with a gateway: the names callers use"
                " through it (the gateway's routes match the Host header)",
            )
        if self.hosts and not self.gateway:
            raise ConfigError("gateway", "is required when hosts are given")
        if (self.redis.mode == "external") != (self.redis.url is not None):
            raise ConfigError(
                "redis.url", "is required with, and only with, mode external"
            )
        if self.migration == "client":
            if self.redis.mode == "none":
                raise ConfigError(
                    "migration",
                    "client needs shared state, so that every pod holds, rolls back"
                    " and advances as one: set redis.mode to embedded or external",
                )
            if self.holysheep_weight is not None:
                raise ConfigError(
                    "holysheepWeight",
                    "splits traffic between tracks, which migration client has not;"
                    " the client's migration phases set the weights",
                )
        return self

    def __repr__(self) -> str:
        shown = " ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"<ValuesConfig {shown}>" if shown else "<ValuesConfig (reference)>"

    def merged(self, **changes: Any) -> ValuesConfig:
        """
        A copy with ``changes`` (snake_case keys, ``None`` ones ignored), validated.

        Raises:
            ConfigError: The result is invalid.
        """
        data = self.model_dump(by_alias=False, exclude_unset=True)
        for key, value in changes.items():
            if value is None:
                continue
            if key == "redis" and isinstance(value, Mapping):
                value = {**data.get("redis", {}), **value}
            data[key] = value
        return ValuesConfig.model_validate(data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> ValuesConfig:
        """
        Read a values file.

        Args:
            path: The YAML file.

        Returns:
            The validated values.

        Raises:
            ConfigError: The file is not YAML, not a mapping, or a key is invalid;
                the field is the key's path and the reason ends with the file and line.
            OSError: The file cannot be read.
        """
        return load_values(path)


def _loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """
    The values model a field holds, through ``X | None`` and ``tuple[X, ...]``.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def known_keys(path: list[str | int]) -> list[str]:
    """
    The keys a values file may hold at ``path`` (camelCase), empty for free maps.
    """
    model: type[BaseModel] | None = ValuesConfig
    for part in path:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if part in (name, f.alias)),
            None,
        )
        model = _model_of(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def line_of(root: yaml.Node | None, path: list[str | int]) -> int | None:
    """
    The 1-based line of the deepest node of ``path`` found in the composed document.
    """
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_values(path: str | Path) -> ValuesConfig:
    """
    Read and validate a values file.

    Raises:
        ConfigError: Not YAML, not a mapping, or an invalid key: the field is the
            key's path, and the reason names the file and line.
        OSError: The file cannot be read.
    """
    source = str(path)
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_loader())
        root = yaml.compose(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError("values", f"is not valid YAML ({source}{where})") from None
    if data is None:
        return ValuesConfig()
    if not isinstance(data, dict):
        raise ConfigError(
            "values", f"expected a mapping of render options ({source}, line 1)"
        )
    try:
        return ValuesConfig.model_validate(data)
    except ConfigError as exc:
        loc = parse_path(exc.field) if exc.field != "values" else []
        reason = exc.reason
        if reason == "unknown key" and loc and isinstance(loc[-1], str):
            close = difflib.get_close_matches(
                str(loc[-1]), known_keys(loc[:-1]), n=1, cutoff=0.6
            )
            if close:
                reason += f"; did you mean {close[0]}?"
        line = line_of(root, loc)
        where = f"{source}, line {line}" if line else source
        raise ConfigError(format_path(loc) or "values", f"{reason} ({where})") from None
