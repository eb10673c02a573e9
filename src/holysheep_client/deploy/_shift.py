"""
The traffic shift: an RFC 6902 JSON patch that moves a share of the VirtualService's
traffic between the two tracks of its one route.

``test`` operations first check that the patched indexes still hold the expected
hosts, so a reordered VirtualService makes the whole patch fail instead of sending
traffic to the wrong track.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ._plan import APP

__all__ = ["kubectl_command", "shift_patch"]


def _route_indexes(
    virtual_service: Mapping[str, Any], source_host: str, target_host: str
) -> tuple[int, int, int]:
    http = (virtual_service.get("spec") or {}).get("http") or []
    for i, route in enumerate(http):
        hosts = [
            ((d or {}).get("destination") or {}).get("host")
            for d in route.get("route") or []
        ]
        if source_host in hosts and target_host in hosts:
            return i, hosts.index(source_host), hosts.index(target_host)
    raise ConfigError(
        "virtual_service",
        f"no route holds both {source_host} and {target_host}; the split needs one",
    )


def shift_patch(
    weight: int,
    *,
    source: str = "legacy",
    target: str = "holysheep",
    app: str = APP,
    virtual_service: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """
    A JSON patch giving ``weight`` percent to the target track and the rest to the source.

    Args:
        weight: The target's share, 0 to 100.
        source: The provider traffic moves away from.
        target: The provider traffic moves to.
        app: The app's name; the tracks' hosts are ``{app}-{provider}``.
        virtual_service: The VirtualService to patch (a dict), to find the route and
            destination indexes; by default the reference layout (route 0, source
            first).

    Returns:
        The patch: two ``test`` operations on the hosts, two ``replace`` on the weights.

    Raises:
        ConfigError: ``weight`` is outside 0..100, or no route holds both tracks.
    """
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int)
        or not 0 <= weight <= 100
    ):
        raise ConfigError("weight", "must be an integer between 0 and 100")
    source_host, target_host = f"{app}-{source}", f"{app}-{target}"
    if virtual_service is None:
        route, s, t = 0, 0, 1
    else:
        route, s, t = _route_indexes(virtual_service, source_host, target_host)
    base = f"/spec/http/{route}/route"
    return [
        {"op": "test", "path": f"{base}/{s}/destination/host", "value": source_host},
        {"op": "test", "path": f"{base}/{t}/destination/host", "value": target_host},
        {"op": "replace", "path": f"{base}/{s}/weight", "value": 100 - weight},
        {"op": "replace", "path": f"{base}/{t}/weight", "value": weight},
    ]


def kubectl_command(
    patch: list[dict[str, Any]], *, namespace: str, name: str = APP
) -> str:
    """
    The ``kubectl patch`` command applying ``patch`` to the VirtualService, shell-quoted.
    """
    body = json.dumps(patch, separators=(",", ":"))
    return (
        f"kubectl -n {shlex.quote(namespace)} patch virtualservice.networking.istio.io "
        f"{shlex.quote(name)} --type=json -p {shlex.quote(body)}"
    )
