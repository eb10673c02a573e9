"""
The two shells are one client: the same public methods, the same parameters, the same
stream surface (sync/async pairs share names, as close/aclose do).
"""

from __future__ import annotations

import inspect

import pytest

from holysheep_client import AsyncChatStream, AsyncClient, ChatStream, Client
from holysheep_client._client.base import BaseClient

PAIRS = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}


def public(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    return names | {
        n
        for n in ("__enter__", "__exit__", "__aenter__", "__aexit__")
        if hasattr(cls, n)
    }


@pytest.mark.parametrize(
    ("sync", "async_"),
    [(Client, AsyncClient), (ChatStream, AsyncChatStream)],
    ids=["clients", "streams"],
)
def test_the_shells_expose_the_same_surface(sync: type, async_: type) -> None:
    """Every public name of one shell exists in the other, under its sync/async pair name."""
    renamed = {PAIRS.get(n, n) for n in public(sync)}
    assert renamed == public(async_)


@pytest.mark.parametrize("name", ["chat", "stream", "models", "verify", "http_client"])
def test_the_clients_take_the_same_parameters(name: str) -> None:
    """chat, stream, models, verify and http_client take the same parameters and defaults."""
    sync = inspect.signature(getattr(Client, name))
    async_ = inspect.signature(getattr(AsyncClient, name))
    assert list(sync.parameters.values()) == list(async_.parameters.values())
    assert inspect.iscoroutinefunction(getattr(AsyncClient, name)) == (
        name not in {"stream", "http_client"}
    )


def test_the_constructors_take_the_same_parameters() -> None:
    """Client and AsyncClient are built from the same arguments."""
    sync = inspect.signature(Client.__init__).parameters
    async_ = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync) == list(async_)
    assert [p.default for p in sync.values()] == [p.default for p in async_.values()]


def test_what_does_not_wait_is_written_once() -> None:
    """health, set_weights and config live in the base, not in either shell."""
    for name in ("health", "set_weights", "config"):
        assert name in vars(BaseClient)
        assert name not in vars(Client) and name not in vars(AsyncClient)
