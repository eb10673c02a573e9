"""
Cost: the built-in price table, overrides, ChatResponse.cost_usd and health totals.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holysheep_client import AsyncClient, ClientConfig, ModelPrice, ProviderConfig
from holysheep_client._cost import (
    DEFAULT_CNY_PER_USD,
    DEFAULT_PRICES,
    PRICE_SOURCES,
    PRICES_AS_OF,
    PriceTable,
    usd_to_cny,
)
from holysheep_client.testing import FakeProvider

DOCS = Path(__file__).resolve().parents[1] / "docs" / "telemetry.md"


@pytest.mark.parametrize(
    ("model", "price"),
    [("deepseek-v3.2", (0.28, 0.42)), ("gpt-4.1", (2.00, 8.00))],
    ids=["deepseek-v3.2", "gpt-4.1"],
)
def test_required_default_prices(model: str, price: tuple[float, float]) -> None:
    """The prices API.md names are built in."""
    assert PriceTable().price(model) == price


def test_cost_is_per_million_tokens() -> None:
    """A million input and a million output tokens cost the two prices summed."""
    table = PriceTable()
    assert table.cost("gpt-4.1", 1_000_000, 1_000_000) == pytest.approx(10.0)
    assert table.cost("deepseek-v3.2", 1000, 2000) == pytest.approx(
        (1000 * 0.28 + 2000 * 0.42) / 1e6
    )


def test_unknown_model_costs_none() -> None:
    """An unknown model is priced None, never guessed."""
    assert PriceTable().cost("mystery-model", 10, 10) is None
    assert "mystery-model" not in PriceTable()


def test_overrides_replace_and_extend() -> None:
    """Config prices override built-ins and add new models."""
    table = PriceTable(
        {
            "gpt-4.1": ModelPrice(input=1.0, output=4.0),
            "mine": ModelPrice(input=0.5, output=0.5),
        }
    )
    assert table.price("gpt-4.1") == (1.0, 4.0)
    assert table.cost("mine", 2_000_000, 0) == pytest.approx(1.0)
    assert "as_of=" in repr(table)


def test_cny_conversion_default_rate() -> None:
    """USD converts to CNY at 7.3 by default, and at the rate given."""
    assert DEFAULT_CNY_PER_USD == 7.3
    assert usd_to_cny(2.0) == pytest.approx(14.6)
    assert usd_to_cny(2.0, 7.0) == pytest.approx(14.0)


def test_docs_table_matches_the_code() -> None:
    """docs/telemetry.md lists every built-in price, its source and the date."""
    text = DOCS.read_text()
    assert PRICES_AS_OF in text
    for model, (inp, out, read, write) in DEFAULT_PRICES.items():
        row = next(
            line for line in text.splitlines() if line.startswith(f"| `{model}`")
        )
        cells = [c.strip() for c in row.split("|")[2:6]]
        assert cells[:2] == [f"{inp:.2f}", f"{out:.2f}"], row
        for cell, price in zip(cells[2:], (read, write), strict=True):
            assert (cell == "-") if price is None else float(cell) == price, row
    for source in set(PRICE_SOURCES.values()):
        assert source in text


@pytest.mark.anyio
async def test_response_cost_and_health_totals() -> None:
    """A call is priced by the model id sent, and health() sums USD and CNY per provider."""
    fake = FakeProvider(api_key="k", model_map={"deepseek-v3.2": "deepseek-v3.2-x"})
    config = ClientConfig(
        providers=[
            ProviderConfig(
                name="holysheep",
                base_url="http://h.localhost/v1",
                api_key="k",
                models={"cheap": "deepseek-v3.2"},
            )
        ],
        cny_per_usd=7.0,
    )
    async with AsyncClient(
        config, transports={"holysheep": fake.async_transport()}
    ) as client:
        r1 = await client.chat(
            messages=[{"role": "user", "content": "hi"}], model="cheap"
        )
        r2 = await client.chat(
            messages=[{"role": "user", "content": "yo"}], model="cheap"
        )
    expected = PriceTable().cost(
        "deepseek-v3.2", r1.usage.input_tokens, r1.usage.output_tokens
    )
    assert r1.model == "deepseek-v3.2-x"
    assert r1.cost_usd == pytest.approx(expected)
    health = client.health().providers["holysheep"]
    total = (r1.cost_usd or 0) + (r2.cost_usd or 0)
    assert health.cost_usd == pytest.approx(total)
    assert health.cost_cny == pytest.approx(total * 7.0)
