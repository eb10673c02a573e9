"""
The ``kube-version`` rule: fields that the cluster version `check` was told about
(``--kube-version``) does not know, or knows only behind an alpha feature gate that is
off by default, so the API server drops them without a word.

Without a version the rule is silent: the newest schemas apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ._findings import Doc, Finding, Patch
from ._index import Index

__all__ = [
    "MIN_KUBERNETES_VERSION",
    "VERSIONED_FIELDS",
    "VERSION_RULES",
    "parse_version",
]

MIN_KUBERNETES_VERSION = (1, 27)
"""The oldest Kubernetes on which every field of the reference stack takes effect."""


def parse_version(text: str) -> tuple[int, int]:
    """
    ``"1.27"``, ``"v1.27.3"`` as ``(1, 27)``.

    Raises:
        ValueError: Not a Kubernetes version.
    """
    core = text.strip().removeprefix("v").split("-")[0].split("+")[0]
    parts = core.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]) or len(parts) > 3:
        raise ValueError(f"expected a Kubernetes version such as 1.30, not {text!r}")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True, slots=True)
class VersionedField:
    """
    A field and the releases that brought it.

    Attributes:
        path: How findings name it.
        alpha: The first release that knows it (behind ``gate``, off by default).
        on_by_default: The first release where it takes effect without a gate.
        gate: The feature gate's name.
        found: Whether a document sets it.
    """

    path: str
    alpha: tuple[int, int]
    on_by_default: tuple[int, int]
    gate: str
    found: Callable[[Doc], bool]


def _pod_spec(doc: Doc) -> dict[str, object]:
    spec = doc.data.get("spec") or {}
    if doc.kind == "Pod":
        return dict(spec)
    if doc.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return dict((spec.get("template") or {}).get("spec") or {})


def _match_label_keys(doc: Doc) -> bool:
    spread = _pod_spec(doc).get("topologySpreadConstraints") or []
    return isinstance(spread, list) and any(
        isinstance(c, dict) and c.get("matchLabelKeys") for c in spread
    )


def _sleep_action(doc: Doc) -> bool:
    containers = _pod_spec(doc).get("containers") or []
    for c in containers if isinstance(containers, list) else []:
        hooks = (c.get("lifecycle") or {}) if isinstance(c, dict) else {}
        if any(isinstance(h, dict) and "sleep" in h for h in hooks.values()):
            return True
    return False


VERSIONED_FIELDS = (
    VersionedField(
        "spec.unhealthyPodEvictionPolicy",
        (1, 26),
        (1, 27),
        "PDBUnhealthyPodEvictionPolicy",
        lambda d: (
            d.kind == "PodDisruptionBudget"
            and "unhealthyPodEvictionPolicy" in (d.data.get("spec") or {})
        ),
    ),
    VersionedField(
        "topologySpreadConstraints[].matchLabelKeys",
        (1, 25),
        (1, 27),
        "MatchLabelKeysInPodTopologySpread",
        _match_label_keys,
    ),
    VersionedField(
        "lifecycle sleep action",
        (1, 29),
        (1, 30),
        "PodLifecycleSleepAction",
        _sleep_action,
    ),
)
"""The version-dependent fields the rule knows, with their alpha and beta releases."""


def _shown(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _kube_version(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    version = index.kubernetes_version
    if version is None:
        return
    for doc in index.docs:
        for field in VERSIONED_FIELDS:
            if version >= field.on_by_default or not field.found(doc):
                continue
            if version >= field.alpha:
                why = (
                    f"on {_shown(version)} it is alpha, behind the {field.gate} feature"
                    " gate (off by default), and the API server drops it silently"
                )
            else:
                why = (
                    f"Kubernetes {_shown(version)} does not know it: the API server"
                    " rejects it (strict validation) or drops it"
                )
            yield Finding(
                "error",
                "kube-version",
                doc.ref,
                f"{field.path} takes effect from Kubernetes"
                f" {_shown(field.on_by_default)}; {why}",
                doc.source or None,
            )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
VERSION_RULES: tuple[_Rule, ...] = (_kube_version,)
