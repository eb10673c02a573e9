"""
The settings every builder of the reference stack reads, derived once from a
`ClientConfig` and the options, plus the per-workload sizing the quota is computed from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from .._config import ClientConfig
from ..errors import ConfigError
from ._meta import Manifest

__all__ = [
    "APP",
    "Autoscaler",
    "Component",
    "NoKeys",
    "Plan",
    "Track",
    "Workload",
    "check_name",
    "dns_label",
    "secret_key_for",
    "track_config",
]

Autoscaler = Literal["keda", "hpa"]

APP = "deerflow-api"
"""The application's name: the Service the VirtualService routes for, and the prefix of
every track's objects."""

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dns_label(text: str) -> str:
    """
    ``text`` as a DNS-1123 label: lower case, other characters turned into ``-``.

    Raises:
        ConfigError: Nothing usable is left.
    """
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not out:
        raise ConfigError("name", "cannot make a DNS-1123 name from it")
    return out[:63].rstrip("-")


def secret_key_for(env_name: str) -> str:
    """
    The Secret key holding the value of ``env_name`` (``HOLYSHEEP_API_KEY`` ->
    ``holysheep-api-key``), the seed's naming.
    """
    return env_name.lower().replace("_", "-")


class NoKeys(Mapping[str, str]):
    """
    An environment in which every variable is set to a dummy.

    The config models resolve ``api_key_env`` when validated; rendering manifests needs
    no key, so configs are validated against this instead of the real environment. The
    dummy is never written anywhere: `ClientConfig.to_dict` leaves keys out.
    """

    def __getitem__(self, key: str) -> str:
        return "unused-by-deploy"

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def track_config(config: ClientConfig, provider: str) -> ClientConfig:
    """
    The config one track's pods run: ``provider`` takes all primary traffic, every other
    provider stays a failover candidate (weight 0), and the migration clock is dropped
    because the mesh moves traffic between tracks instead.

    Raises:
        ConfigError: The config cannot be written out (a literal ``api_key``, or a
            shared-state URL carrying a password).
    """
    if config.shared_state is not None:
        from urllib.parse import urlsplit

        if urlsplit(config.shared_state.url.get_secret_value()).password:
            raise ConfigError(
                "shared_state.url",
                "carries a password, which must not go into a ConfigMap",
            )
    data = config.to_dict()
    for p in data["providers"]:
        p["weight"] = 100 if p["name"] == provider else 0
    data["migration"] = None
    return ClientConfig.model_validate(data, context={"environ": NoKeys()})


@dataclass(frozen=True, slots=True)
class Track:
    """
    One Deployment of the app whose pods use ``provider`` first.

    Attributes:
        provider: The provider's name in the client config.
        name: The track's objects' name, e.g. ``deerflow-api-holysheep``.
        label: The value of the pods' ``track`` label.
        weight: Its share of the VirtualService's traffic, in percent.
    """

    provider: str
    name: str
    label: str
    weight: int


@dataclass(frozen=True, slots=True)
class Workload:
    """
    The most pods one workload can run at once, and what each one requests.

    Attributes:
        name: The workload's name.
        max_pods: Maximum replicas plus the rolling update's surge.
        requests: Per-pod requests (``cpu`` in cores, ``memory`` in bytes), sidecars
            included.
        limits: Per-pod limits, the same way.
    """

    name: str
    max_pods: int
    requests: Mapping[str, Fraction]
    limits: Mapping[str, Fraction]


@dataclass(frozen=True, slots=True)
class Component:
    """
    What one builder adds to the stack: its objects and the workloads among them.
    """

    objects: tuple[Manifest, ...]
    workloads: tuple[Workload, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """
    Everything the builders share.

    Attributes:
        config: The client config the pods run (each track gets its own variant).
        namespace: Where every object goes.
        image: The app's container image.
        autoscaler: ``"keda"`` or ``"hpa"``; each Deployment gets exactly one.
        tracks: The Deployments the VirtualService splits traffic between.
        secret_name: The Secret the pods read API keys from.
        labels: Labels every object carries.
    """

    config: ClientConfig
    namespace: str
    image: str
    autoscaler: Autoscaler
    tracks: tuple[Track, ...]
    secret_name: str = "deerflow-secrets"
    labels: Mapping[str, str] | None = None

    @property
    def key_envs(self) -> tuple[str, ...]:
        """
        The environment variables naming the providers' keys, in provider order.
        """
        return tuple(p.api_key_env for p in self.config.providers if p.api_key_env)

    @property
    def request_timeout(self) -> float:
        """
        Seconds one call may take: ``timeout.total`` if set, else one attempt's timeout.
        """
        t = self.config.timeout
        return t.total or t.per_attempt or 30.0

    @property
    def version(self) -> str | None:
        """
        The image tag, used as the pods' ``version`` label (none for a digest).
        """
        if "@" in self.image:
            return None
        tail = self.image.rsplit("/", 1)[-1]
        tag = tail.split(":", 1)[1] if ":" in tail else "latest"
        return (
            tag
            if re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", tag)
            else None
        )


def check_name(field: str, value: str) -> str:
    """
    ``value`` if it is a DNS-1123 label.

    Raises:
        ConfigError: It is not.
    """
    if len(value) > 63 or not _LABEL.match(value):
        raise ConfigError(
            field, "expected a DNS-1123 label (a-z, 0-9, '-', at most 63)"
        )
    return value
