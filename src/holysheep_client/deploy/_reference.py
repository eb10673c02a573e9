"""
The reference stack: the seed article's manifests as they were meant, built from a
`ClientConfig` and the render values (`ValuesConfig`).

The stack is assembled from components (the namespace's objects, one component per
track, the mesh routing, an optional Redis and Secret); the ResourceQuota is computed
last from the workloads the components declare, so a new component is one more entry
in the list and the quota follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from .. import ClientConfig
from ..errors import ConfigError
from ._app import app_track
from ._manifests import Secret
from ._mesh import mesh_objects
from ._meta import Manifest
from ._names import check_name, dns_label
from ._namespace import namespace_objects, quota
from ._plan import (
    APP,
    Autoscaler,
    Component,
    NoKeys,
    Plan,
    Track,
    object_meta,
    secret_key_for,
    with_deadline,
)
from ._redis import RedisMode, redis_component, with_shared_state
from ._values import DEFAULT_IMAGE, DEFAULT_NAMESPACE, RedisDeployConfig, ValuesConfig

__all__ = [
    "COMMON_LABELS",
    "DEFAULT_IMAGE",
    "DEFAULT_NAMESPACE",
    "reference_config",
    "reference_stack",
    "split_weights",
]

#: The track label (and name suffix) of ``migration: client``'s one Deployment.
CLIENT_TRACK = "migrating"

COMMON_LABELS = {
    "app.kubernetes.io/part-of": "deerflow",
    "app.kubernetes.io/managed-by": "holysheep-client",
}


def reference_config() -> ClientConfig:
    """
    The seed's client config: ``legacy`` (OpenAI protocol) migrating to ``holysheep``.

    Keys are named by environment variable (``LEGACY_API_KEY``, ``HOLYSHEEP_API_KEY``),
    never held; the phases are the seed's: canary 24h at 5%, rolling 48h at 25%,
    majority 24h at 75%, then 100%.

    Returns:
        The config, validated without reading any key.
    """
    data = {
        "providers": [
            {
                "name": "legacy",
                "protocol": "openai",
                "base_url": "https://api.legacy-vendor.com/v1",
                "api_key_env": "LEGACY_API_KEY",
                "weight": 100,
            },
            {
                "name": "holysheep",
                "protocol": "anthropic",
                "base_url": "https://api.holysheep.ai/v1",
                "api_key_env": "HOLYSHEEP_API_KEY",
                "weight": 0,
            },
        ],
        "migration": {
            "source": "legacy",
            "target": "holysheep",
            "phases": [
                {"name": "canary", "duration": "24h", "weight": 5},
                {"name": "rolling", "duration": "48h", "weight": 25},
                {"name": "majority", "duration": "24h", "weight": 75},
                {"name": "full", "duration": 0, "weight": 100},
            ],
        },
    }
    return ClientConfig.model_validate(data, context={"environ": NoKeys()})


def split_weights(
    config: ClientConfig, holysheep_weight: int | None = None
) -> dict[str, int]:
    """
    The VirtualService's split between tracks, in percent, adding up to 100.

    With a migration, its source and target get a track each and
    ``holysheep_weight`` (the target's share) defaults to the target's configured weight
    share; without one, every provider gets a track by its weight share.

    Raises:
        ConfigError: ``holysheep_weight`` is outside 0..100, or given without a
            migration target.
    """
    if holysheep_weight is not None and not 0 <= holysheep_weight <= 100:
        raise ConfigError("holysheep_weight", "must be between 0 and 100")
    m = config.migration
    names = [m.source, m.target] if m else [p.name for p in config.providers]
    if holysheep_weight is not None:
        if m is None:
            raise ConfigError(
                "holysheep_weight", "needs a migration target in the config"
            )
        return {m.source: 100 - holysheep_weight, m.target: holysheep_weight}
    raw = {n: Fraction(config.provider(n).weight) for n in names}
    total = sum(raw.values())
    if total == 0:  # only other providers carry weight: all to the first track
        raw, total = {n: Fraction(i == 0) for i, n in enumerate(names)}, Fraction(1)
    shares = {n: w * 100 / total for n, w in raw.items()}
    out = {n: int(s) for n, s in shares.items()}
    # Largest remainder, so the rounded shares still add up to 100.
    for n in sorted(names, key=lambda n: shares[n] - out[n], reverse=True):
        if sum(out.values()) >= 100:
            break
        out[n] += 1
    return out


def _secret(plan: Plan, names: Sequence[str], environ: Mapping[str, str]) -> Component:
    data: dict[str, str] = {}
    for name in names:
        if name not in plan.key_envs:
            raise ConfigError(
                "secret_from_env", f"{name} is not any provider's api_key_env"
            )
        value = environ.get(name)
        if not value:
            raise ConfigError(name, "environment variable is not set")
        data[secret_key_for(name)] = value
    secret = Secret(
        metadata=object_meta(plan, plan.secret_name), string_data=data, type="Opaque"
    )
    return Component(objects=(secret,))


def _values(
    values: ValuesConfig | None,
    *,
    namespace: str | None,
    image: str | None,
    autoscaler: Autoscaler | None,
    holysheep_weight: int | None,
    redis: RedisMode | None,
    redis_url: str | None,
) -> ValuesConfig:
    """
    ``values`` with the keyword options over it; each option is checked first, so an
    error names it as the caller spelled it.
    """
    if namespace is not None:
        check_name("namespace", namespace)
    if autoscaler is not None and autoscaler not in ("keda", "hpa"):
        raise ConfigError("autoscaler", "expected 'keda' or 'hpa'")
    if image is not None and (not image.strip() or any(c.isspace() for c in image)):
        raise ConfigError("image", "expected an image reference without spaces")
    if holysheep_weight is not None and not 0 <= holysheep_weight <= 100:
        raise ConfigError("holysheep_weight", "must be between 0 and 100")
    if redis is not None and redis not in ("none", "embedded", "external"):
        raise ConfigError("redis", "expected 'none', 'embedded' or 'external'")
    if redis_url is not None:
        try:
            RedisDeployConfig(url=redis_url)
        except ConfigError as exc:
            raise ConfigError("redis_url", exc.reason) from None
    base = values or ValuesConfig()
    mode = redis if redis is not None else base.redis.mode
    if (mode == "external") != ((redis_url or base.redis.url) is not None):
        raise ConfigError(
            "redis_url", "is required with, and only with, redis='external'"
        )
    changes: dict[str, object] = {
        "namespace": namespace,
        "image": image,
        "autoscaler": autoscaler,
        "holysheep_weight": holysheep_weight,
    }
    if redis is not None or redis_url is not None:
        changes["redis"] = {
            "mode": mode,
            "url": redis_url if redis_url is not None else base.redis.url,
        }
    return base.merged(**changes)


def reference_stack(
    config: ClientConfig | None = None,
    values: ValuesConfig | None = None,
    *,
    namespace: str | None = None,
    image: str | None = None,
    autoscaler: Autoscaler | None = None,
    holysheep_weight: int | None = None,
    secret_from_env: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    redis: RedisMode | None = None,
    redis_url: str | None = None,
) -> tuple[Manifest, ...]:
    """
    The reference Kubernetes objects for running the app on this client, defects fixed.

    Each provider of the migration gets a track (a Deployment whose pods use it first
    and fail over to the others); an Istio VirtualService, bound to the mesh and to an
    optional gateway, splits traffic between the tracks in one route. Every Deployment
    has exactly one autoscaler, a PodDisruptionBudget, and a ConfigMap written from its
    variant of ``config`` (with a whole-call ``timeout.total`` added when it has none,
    so the grace period covers every call).

    Args:
        config: The client config; `reference_config()` when omitted.
        values: The render options (`ValuesConfig`, what ``--values FILE`` reads);
            the reference values when omitted.
        namespace: Overrides ``values.namespace``.
        image: Overrides ``values.image``.
        autoscaler: Overrides ``values.autoscaler`` (``"keda"`` or ``"hpa"``).
        holysheep_weight: Overrides ``values.holysheep_weight``: the migration
            target's share of traffic in percent (by default its configured weight
            share).
        secret_from_env: Names of environment variables (providers' ``api_key_env``)
            whose values go into a rendered Secret. Empty (the default): no Secret is
            rendered and the pods reference an existing one.
        environ: Where those variables are read (required when any is named).
        redis: Overrides ``values.redis.mode``: ``"none"``, ``"embedded"`` (a Redis
            Deployment, Service and NetworkPolicy, ``shared_state.url`` pointing at it)
            or ``"external"`` (``redis_url``); see ``docs/scaling.md``.
        redis_url: Overrides ``values.redis.url``: the external Redis's URL, without a
            password (it goes into the ConfigMap).

    Returns:
        The objects, in no particular order (`render` sorts them).

    Raises:
        ConfigError: An option or value is invalid, ``values.exclude_kinds`` names a
            kind the set does not hold, or a named variable is not set.
    """
    v = _values(
        values,
        namespace=namespace,
        image=image,
        autoscaler=autoscaler,
        holysheep_weight=holysheep_weight,
        redis=redis,
        redis_url=redis_url,
    )
    config = reference_config() if config is None else config
    config = with_deadline(
        with_shared_state(config, v.redis.mode, namespace=v.namespace, url=v.redis.url)
    )
    if v.migration == "client":
        tracks: tuple[Track, ...] = (_client_track(config),)
    else:
        weights = split_weights(config, v.holysheep_weight)
        tracks = tuple(
            Track(
                provider=n, name=f"{APP}-{dns_label(n)}", label=dns_label(n), weight=w
            )
            for n, w in weights.items()
        )
    if len({t.label for t in tracks}) != len(tracks):
        raise ConfigError("providers", "two provider names map to the same track name")
    plan = Plan(
        config=config, values=v, tracks=tracks, labels={**COMMON_LABELS, **v.labels}
    )
    components = [namespace_objects(plan)]
    components += [app_track(plan, t) for t in tracks]
    components.append(mesh_objects(plan))
    if v.redis.mode == "embedded":
        components.append(redis_component(plan))
    if secret_from_env:
        if environ is None:
            raise ConfigError("environ", "is required with secret_from_env")
        components.append(_secret(plan, secret_from_env, environ))
    workloads = [w for c in components for w in c.workloads]
    objects = [o for c in components for o in c.objects]
    objects.append(quota(plan, workloads))
    return _exclude(objects, v.exclude_kinds)


def _client_track(config: ClientConfig) -> Track:
    """The one track of ``migration: client``: its pods run the whole migration."""
    m = config.migration
    if m is None:
        raise ConfigError(
            "migration", "client needs a migration in the client config to run"
        )
    return Track(
        provider=m.source,
        name=f"{APP}-{CLIENT_TRACK}",
        label=CLIENT_TRACK,
        weight=100,
        migrating=True,
    )


def _exclude(objects: Sequence[Manifest], kinds: Sequence[str]) -> tuple[Manifest, ...]:
    wanted = {k.lower() for k in kinds}
    known = {o.kind.lower() for o in objects}
    for i, kind in enumerate(kinds):
        if kind.lower() not in known:
            raise ConfigError(
                f"excludeKinds[{i}]",
                f"the set holds no {kind}; its kinds are"
                f" {', '.join(sorted({o.kind for o in objects}))}",
            )
    return tuple(o for o in objects if o.kind.lower() not in wanted)
