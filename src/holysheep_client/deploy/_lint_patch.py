"""
Lint rules for JSON patches against VirtualServices (``kubectl patch --type=json`` in
scripts, or patch files): paths past the routes, into a route that is never reached,
onto a lone destination's weight, and patches without a ``test`` guard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index
from ._lint_mesh import catch_all_index, http_routes, route_label

__all__ = ["PATCH_RULES"]

_PATH = re.compile(r"^/spec/http/(\d+)(?:/route/(\d+))?(/.*)?$")


def _patch_target(index: Index, patch: Patch) -> Doc | None:
    services = index.of_kind("VirtualService")
    if patch.target is not None:
        services = [v for v in services if v.name == patch.target]
        if patch.namespace:
            services = [v for v in services if v.namespace == patch.namespace]
    return services[0] if len(services) == 1 else None


def _one_patch(index: Index, patch: Patch) -> Iterator[Finding]:
    subject = f"patch of VirtualService/{patch.target or '?'}"

    def pf(message: str, severity: Severity = "error") -> Finding:
        return Finding(severity, "patch-path", subject, message, patch.source)

    vs = _patch_target(index, patch)
    if vs is None:
        yield pf(
            "cannot tell which VirtualService in the set it patches, so its"
            " paths were not checked",
            "warning",
        )
        return
    routes = http_routes(vs)
    first = catch_all_index(routes)
    if not any(op == "test" for op, _ in patch.ops):
        yield pf(
            "no 'test' operation checks the hosts at the patched indexes, so a"
            " reordered route silently gets the wrong weight",
            "warning",
        )
    for op, path in patch.ops:
        m = _PATH.match(path)
        if m is None:
            continue
        i, j = int(m.group(1)), m.group(2)
        if i >= len(routes):
            yield pf(
                f"{op} {path} points past the last route of {vs.ref}"
                f" (it has {len(routes)})"
            )
        elif first is not None and i > first:
            yield pf(
                f"{op} {path} changes {route_label(routes, i)}, which is never"
                f" reached ({route_label(routes, first)} takes every request):"
                " the shift has no effect"
            )
        elif j is not None:
            dests = routes[i].get("route") or []
            if int(j) >= len(dests) and op != "add":
                yield pf(
                    f"{op} {path} points past the last destination of"
                    f" {route_label(routes, i)}"
                )
            elif len(dests) == 1 and (m.group(3) or "") == "/weight":
                yield pf(
                    f"{op} {path} sets the weight of the only destination of"
                    f" {route_label(routes, i)}, which takes all its traffic"
                    " whatever the weight: the shift has no effect"
                )


def _patch_paths(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for patch in patches:
        yield from _one_patch(index, patch)


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
PATCH_RULES: tuple[_Rule, ...] = (_patch_paths,)
