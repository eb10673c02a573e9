"""
Every pool of a flavor shares one verifying TLS context, built once per process.
"""

from __future__ import annotations

import ssl

import pytest

from holysheep_client import PoolConfig
from holysheep_client._transports.pool import PoolTransport, ssl_context


@pytest.mark.parametrize("flavor", ["httpx2", "httpx"])
def test_pools_share_one_verifying_context(flavor: str) -> None:
    ctx = ssl_context(flavor)
    assert ctx is ssl_context(flavor)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    a = PoolTransport(PoolConfig(), flavor=flavor)  # type: ignore[arg-type]
    b = PoolTransport(PoolConfig(), sync=True, flavor=flavor)  # type: ignore[arg-type]
    assert a._pool._ssl_context is ctx
    assert b._pool._ssl_context is ctx


def test_each_flavor_has_its_own_context() -> None:
    assert ssl_context("httpx2") is not ssl_context("httpx")


def test_an_unknown_flavor_is_refused() -> None:
    with pytest.raises(ValueError, match="flavor"):
        ssl_context("requests")


@pytest.mark.anyio
async def test_the_aiohttp_pool_shares_it_too() -> None:
    from holysheep_client._transports.aiohttp_pool import AiohttpPoolTransport

    pool = AiohttpPoolTransport(PoolConfig(backend="aiohttp"))
    try:
        session = pool._open()
        assert session.connector._ssl is ssl_context("httpx2")
    finally:
        await pool.aclose()
