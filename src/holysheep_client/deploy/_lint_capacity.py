"""
Lint rules about capacity: whether a ResourceQuota holds every workload through a
rollout at its maximum scale (sidecars and terminating pods included), and whether
requests and limits fit the namespace's LimitRange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, PodTemplate
from ._rollout import (
    ISTIO_SIDECAR_LIMITS,
    ISTIO_SIDECAR_REQUESTS,
    SIDECAR_ANNOTATIONS,
    rollout_pods,
)
from ._units import format_cpu, format_memory, parse_quantity

__all__ = ["CAPACITY_RULES", "pod_resources"]

Sidecar = Literal["none", "pinned", "injected"]


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _sidecar(annotations: Mapping[str, Any], mode: Sidecar) -> dict[str, Any] | None:
    """
    The sidecar as the injector writes it, as a container (``None``: no sidecar).
    """
    pinned = {
        k: annotations[a] for k, a in SIDECAR_ANNOTATIONS.items() if a in annotations
    }
    if mode == "none" or (mode == "pinned" and not pinned):
        return None
    if not pinned:
        return {
            "resources": {
                "requests": dict(ISTIO_SIDECAR_REQUESTS),
                "limits": dict(ISTIO_SIDECAR_LIMITS),
            }
        }
    resources: dict[str, dict[str, Any]] = {"requests": {}, "limits": {}}
    for (section, resource), value in pinned.items():
        resources[section][resource] = value
    return {"resources": resources}


def pod_resources(
    template: PodTemplate,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
    sidecar: Sidecar = "pinned",
) -> dict[str, dict[str, Fraction]]:
    """
    What one pod requests and is limited to, summed over its containers and Istio's
    sidecar.

    Args:
        template: The pod template.
        defaults: A LimitRange item's ``default`` and ``defaultRequest``, applied to
            containers that set none, as the API server does.
        sidecar: ``"pinned"`` counts the sidecar only when annotations pin its
            resources; ``"injected"`` counts it always, at Istio's defaults unless
            pinned; ``"none"`` leaves it out.

    Returns:
        ``{"requests": {"cpu": cores, "memory": bytes}, "limits": {...}}``.
    """
    out: dict[str, dict[str, Fraction]] = {
        "requests": {"cpu": Fraction(0), "memory": Fraction(0)},
        "limits": {"cpu": Fraction(0), "memory": Fraction(0)},
    }
    defaults = defaults or {}
    containers = list(template.containers())
    proxy = _sidecar(template.annotations, sidecar)
    if proxy is not None:
        containers.append(proxy)
    for c in containers:
        res = c.get("resources") or {}
        limits = {**(defaults.get("default") or {}), **(res.get("limits") or {})}
        requests = {
            **(defaults.get("defaultRequest") or {}),
            **limits,
            **(res.get("requests") or {}),
        }
        for field, values in (("requests", requests), ("limits", limits)):
            for resource in ("cpu", "memory"):
                if resource in values:
                    out[field][resource] += parse_quantity(values[resource])
    return out


def _limit_defaults(index: Index, namespace: str) -> dict[str, Mapping[str, str]]:
    for lr in index.of_kind("LimitRange"):
        if lr.namespace != namespace:
            continue
        for item in (lr.data.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                return {k: item.get(k) or {} for k in ("default", "defaultRequest")}
    return {}


def _rollout(index: Index, template: PodTemplate) -> tuple[int, int, int]:
    """
    ``(max replicas, surge, terminating)`` of a workload at its maximum scale.
    """
    doc = template.owner
    _, high = index.replica_range(doc)
    spec = doc.data.get("spec") or {}
    if doc.kind != "Deployment":
        return high, 0, 0
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    grace = template.spec.get("terminationGracePeriodSeconds", 30)
    ready = float(spec.get("minReadySeconds") or 0)
    for c in template.containers():
        probe = c.get("readinessProbe") or {}
        ready = max(ready, float(probe.get("initialDelaySeconds") or 0))
    surge, terminating = rollout_pods(
        high,
        max_surge=rolling.get("maxSurge", "25%"),
        max_unavailable=rolling.get("maxUnavailable", "25%"),
        grace_seconds=float(grace) if isinstance(grace, int | float) else 30.0,
        ready_seconds=ready,
        recreate=strategy.get("type") == "Recreate",
    )
    return high, surge, terminating


def _shortfall(hard: Mapping[str, Any], need: Mapping[str, Fraction]) -> list[str]:
    aliases = {"requests.cpu": "cpu", "requests.memory": "memory"}
    short: list[str] = []
    for key, amount in need.items():
        raw = hard.get(key, hard.get(aliases.get(key, ""), None))
        if raw is None or amount <= parse_quantity(raw):
            continue
        if key.endswith("cpu"):
            shown = format_cpu(amount)
        elif key.endswith("memory"):
            shown = format_memory(amount)
        else:
            shown = str(amount)
        short.append(f"{key} {shown} > {raw}")
    return short


def _need(
    index: Index, quota: Doc, sidecar: Sidecar, terminating: bool
) -> tuple[dict[str, Fraction], list[str]]:
    need: dict[str, Fraction] = {}
    parts: list[str] = []
    for template in index.templates():
        doc = template.owner
        if doc.namespace != quota.namespace or doc.kind not in (
            "Deployment",
            "StatefulSet",
        ):
            continue
        high, surge, ending = _rollout(index, template)
        pods = high + surge + (ending if terminating else 0)
        mode: Sidecar = (
            "injected"
            if sidecar == "injected" and index.sidecar_injected(template)
            else "pinned"
        )
        res = pod_resources(template, _limit_defaults(index, doc.namespace), mode)
        for field in ("requests", "limits"):
            for resource, amount in res[field].items():
                key = f"{field}.{resource}"
                need[key] = need.get(key, Fraction(0)) + pods * amount
        need["pods"] = need.get("pods", Fraction(0)) + pods
        extra = f" + {ending} terminating" if terminating and ending else ""
        parts.append(f"{doc.ref} up to {high} replicas + {surge} surge{extra}")
    return need, parts


def _quota_capacity(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for quota in index.of_kind("ResourceQuota"):
        hard = (quota.data.get("spec") or {}).get("hard") or {}
        declared, parts = _need(index, quota, "pinned", terminating=False)
        short = _shortfall(hard, declared)
        if short:
            yield _f(
                quota,
                "quota-capacity",
                f"cannot hold {'; '.join(parts)}: {', '.join(short)}; pods beyond it"
                " stay Pending while the autoscaler asks for them",
            )
            continue
        injected, _ = _need(index, quota, "injected", terminating=False)
        short = _shortfall(hard, injected)
        if short:
            yield _f(
                quota,
                "quota-sidecar",
                f"holds {'; '.join(parts)} only without Istio's sidecar, which the"
                f" injector adds at {ISTIO_SIDECAR_REQUESTS['cpu']} /"
                f" {ISTIO_SIDECAR_REQUESTS['memory']} of requests and"
                f" {ISTIO_SIDECAR_LIMITS['cpu']} / {ISTIO_SIDECAR_LIMITS['memory']} of"
                f" limits per pod unless sidecar.istio.io/proxy* annotations pin it:"
                f" {', '.join(short)}",
            )
            continue
        rolling, parts = _need(index, quota, "injected", terminating=True)
        short = _shortfall(hard, rolling)
        if short:
            yield _f(
                quota,
                "quota-capacity",
                f"has no room for the old pods still terminating during a rollout at"
                f" maximum scale ({'; '.join(parts)}): {', '.join(short)}; the"
                " quota counts a terminating pod until it is gone, so the rollout"
                " waits for them",
                "warning",
            )


def _limitrange_bounds(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    mesh = bool(index.of_kind("VirtualService"))
    for lr in index.of_kind("LimitRange"):
        for item in (lr.data.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            yield from _limit_item(index, lr, item, mesh)


def _limit_item(
    index: Index, lr: Doc, item: Mapping[str, Any], mesh: bool
) -> Iterator[Finding]:
    def q(section: str, resource: str) -> Fraction | None:
        value = (item.get(section) or {}).get(resource)
        return None if value is None else parse_quantity(value)

    for resource in ("cpu", "memory"):
        low, high = q("min", resource), q("max", resource)
        for section in ("default", "defaultRequest"):
            value = q(section, resource)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                yield _f(
                    lr, "limitrange-bounds", f"{section}.{resource} is outside min..max"
                )
        if mesh and low is not None:
            sidecar = ISTIO_SIDECAR_REQUESTS[resource]
            if low > parse_quantity(sidecar):
                yield _f(
                    lr,
                    "limitrange-bounds",
                    f"min.{resource} {item['min'][resource]} is above what Istio's"
                    f" sidecar requests by default ({sidecar}),"
                    " so injected pods are rejected",
                    "warning",
                )
        for template in index.templates():
            if template.owner.namespace != lr.namespace:
                continue
            for c in template.containers():
                res = c.get("resources") or {}
                for section in ("requests", "limits"):
                    raw = (res.get(section) or {}).get(resource)
                    if raw is None:
                        continue
                    value = parse_quantity(raw)
                    if (low is not None and value < low) or (
                        high is not None and value > high
                    ):
                        yield _f(
                            template.owner,
                            "limitrange-bounds",
                            f"container {c.get('name')}'s {section}.{resource} {raw} is"
                            f" outside {lr.ref}'s bounds, so its pods are rejected",
                        )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
CAPACITY_RULES: tuple[_Rule, ...] = (_quota_capacity, _limitrange_bounds)
