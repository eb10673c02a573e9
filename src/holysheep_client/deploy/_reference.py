"""
The reference stack: the seed article's manifests as they were meant, built from a
`ClientConfig`.

The stack is assembled from components (shared namespace objects, one component per
track, the mesh routing, an optional Secret); the ResourceQuota is computed last from
the workloads the components declare, so a new component (a Redis for shared state,
say) is one more entry in the list and the quota follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from .._config import ClientConfig
from ..errors import ConfigError
from ._app import APP_LABEL, HTTP_PORT, METRICS_PORT, app_track
from ._istio import (
    Destination,
    HTTPRetry,
    HTTPRoute,
    HTTPRouteDestination,
    PortSelector,
    VirtualService,
    VirtualServiceSpec,
)
from ._manifests import (
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    Namespace,
    NetworkPolicy,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ResourceQuota,
    ResourceQuotaSpec,
    Secret,
    Service,
    ServiceAccount,
    ServicePort,
    ServiceSpec,
)
from ._meta import LabelSelector, Manifest, ObjectMeta
from ._plan import (
    APP,
    Autoscaler,
    Component,
    NoKeys,
    Plan,
    Track,
    Workload,
    check_name,
    dns_label,
    secret_key_for,
)
from ._redis import RedisMode, redis_component, with_shared_state
from ._units import format_cpu, format_memory

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_NAMESPACE",
    "reference_config",
    "reference_stack",
    "split_weights",
]

DEFAULT_NAMESPACE = "deerflow-prod"
DEFAULT_IMAGE = "deerflow/deerflow-api:2.0.3"
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


def _meta(plan: Plan, name: str, **labels: str) -> ObjectMeta:
    return ObjectMeta(
        name=name, namespace=plan.namespace, labels={**labels, **COMMON_LABELS}
    )


def _namespace_objects(plan: Plan) -> Component:
    namespace = Namespace(
        metadata=ObjectMeta(
            name=plan.namespace,
            labels={
                "env": "production",
                "team": "ai-platform",
                "istio-injection": "enabled",
                **COMMON_LABELS,
            },
        )
    )
    account = ServiceAccount(
        metadata=_meta(plan, APP, app=APP_LABEL), automount_service_account_token=False
    )
    limits = LimitRange(
        metadata=_meta(plan, "deerflow-limits"),
        spec=LimitRangeSpec(
            limits=(
                LimitRangeItem(
                    type="Container",
                    max={"cpu": "8", "memory": "32Gi"},
                    # Low enough for Istio's init container and sidecar.
                    min={"cpu": "10m", "memory": "10Mi"},
                    default={"cpu": "2", "memory": "4Gi"},
                    default_request={"cpu": "1", "memory": "2Gi"},
                ),
            )
        ),
    )
    anywhere = NetworkPolicyPeer(namespace_selector=LabelSelector())
    monitoring = NetworkPolicyPeer(
        namespace_selector=LabelSelector(
            match_labels={"kubernetes.io/metadata.name": "monitoring"}
        )
    )
    policy = NetworkPolicy(
        metadata=_meta(plan, APP, app=APP_LABEL),
        spec=NetworkPolicySpec(
            pod_selector=LabelSelector(match_labels={"app": APP_LABEL}),
            ingress=(
                NetworkPolicyIngressRule(
                    from_=(anywhere,), ports=(NetworkPolicyPort("TCP", HTTP_PORT),)
                ),
                NetworkPolicyIngressRule(
                    from_=(monitoring,),
                    ports=(
                        NetworkPolicyPort("TCP", METRICS_PORT),
                        NetworkPolicyPort("TCP", 15020),
                        NetworkPolicyPort("TCP", 15090),
                    ),
                ),
            ),
            policy_types=("Ingress",),
        ),
    )
    return Component(objects=(namespace, account, limits, policy))


def _mesh_objects(plan: Plan) -> Component:
    front = Service(
        metadata=_meta(plan, APP, app=APP_LABEL),
        spec=ServiceSpec(
            selector={"app": APP_LABEL},
            ports=(
                ServicePort(HTTP_PORT, target_port="http", protocol="TCP", name="http"),
            ),
            type="ClusterIP",
        ),
    )
    destinations = tuple(
        HTTPRouteDestination(
            Destination(host=t.name, port=PortSelector(HTTP_PORT)), weight=t.weight
        )
        for t in plan.tracks
    )
    route = HTTPRoute(
        name="tracks",
        route=destinations,
        # Retry only what never reached a pod: an LLM call is slow and not idempotent.
        retries=HTTPRetry(attempts=2, retry_on="connect-failure,refused-stream"),
    )
    service = VirtualService(
        metadata=_meta(plan, APP, app=APP_LABEL),
        spec=VirtualServiceSpec(hosts=(APP,), http=(route,)),
    )
    return Component(objects=(front, service))


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
        metadata=_meta(plan, plan.secret_name), string_data=data, type="Opaque"
    )
    return Component(objects=(secret,))


def _quota(plan: Plan, workloads: Sequence[Workload]) -> ResourceQuota:
    def total(field: str, resource: str) -> Fraction:
        return sum(
            (w.max_pods * getattr(w, field)[resource] for w in workloads), Fraction(0)
        )

    hard = {
        "requests.cpu": format_cpu(total("requests", "cpu")),
        "requests.memory": format_memory(total("requests", "memory")),
        "limits.cpu": format_cpu(total("limits", "cpu")),
        "limits.memory": format_memory(total("limits", "memory")),
        "pods": str(sum(w.max_pods for w in workloads)),
    }
    return ResourceQuota(
        metadata=_meta(plan, "deerflow-quota"), spec=ResourceQuotaSpec(hard=hard)
    )


def reference_stack(
    config: ClientConfig | None = None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    image: str = DEFAULT_IMAGE,
    autoscaler: Autoscaler = "keda",
    holysheep_weight: int | None = None,
    secret_from_env: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    redis: RedisMode = "none",
    redis_url: str | None = None,
) -> tuple[Manifest, ...]:
    """
    The reference Kubernetes objects for running the app on this client, defects fixed.

    Each provider of the migration gets a track (a Deployment whose pods use it first
    and fail over to the others); an Istio VirtualService splits traffic between the
    tracks in one route. Every Deployment has exactly one autoscaler, a
    PodDisruptionBudget, and a ConfigMap written from its variant of ``config``.

    Args:
        config: The client config; `reference_config()` when omitted.
        namespace: Where every object goes.
        image: The app's container image.
        autoscaler: ``"keda"`` (a ScaledObject per Deployment) or ``"hpa"``.
        holysheep_weight: The migration target's share of traffic in percent; by
            default its configured weight share.
        secret_from_env: Names of environment variables (providers' ``api_key_env``)
            whose values go into a rendered Secret. Empty (the default): no Secret is
            rendered and the pods reference an existing one.
        environ: Where those variables are read (required when any is named).
        redis: Shared breaker state and rate limits across the pods (see
            ``docs/scaling.md``): ``"none"`` (the config's ``shared_state`` as it
            is), ``"embedded"`` (a Redis Deployment, Service and NetworkPolicy, and
            ``shared_state.url`` pointing at it) or ``"external"`` (``redis_url``).
        redis_url: The external Redis's URL, without a password (it goes into the
            ConfigMap).

    Returns:
        The objects, in no particular order (`render` sorts them).

    Raises:
        ConfigError: An option is invalid or a named variable is not set.
    """
    config = reference_config() if config is None else config
    config = with_shared_state(
        config, redis, namespace=check_name("namespace", namespace), url=redis_url
    )
    if autoscaler not in ("keda", "hpa"):
        raise ConfigError("autoscaler", "expected 'keda' or 'hpa'")
    if not image.strip() or any(c.isspace() for c in image):
        raise ConfigError("image", "expected an image reference without spaces")
    weights = split_weights(config, holysheep_weight)
    tracks = tuple(
        Track(provider=n, name=f"{APP}-{dns_label(n)}", label=dns_label(n), weight=w)
        for n, w in weights.items()
    )
    if len({t.label for t in tracks}) != len(tracks):
        raise ConfigError("providers", "two provider names map to the same track name")
    plan = Plan(
        config=config,
        namespace=check_name("namespace", namespace),
        image=image,
        autoscaler=autoscaler,
        tracks=tracks,
        labels=COMMON_LABELS,
    )
    components = [_namespace_objects(plan)]
    components += [app_track(plan, t) for t in tracks]
    components.append(_mesh_objects(plan))
    if redis == "embedded":
        components.append(redis_component(plan))
    if secret_from_env:
        if environ is None:
            raise ConfigError("environ", "is required with secret_from_env")
        components.append(_secret(plan, secret_from_env, environ))
    workloads = [w for c in components for w in c.workloads]
    objects = [o for c in components for o in c.objects]
    objects.append(_quota(plan, workloads))
    return tuple(objects)
