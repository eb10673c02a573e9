"""
Prices in USD per million tokens, and the cost of a call.

The built-in table is dated and sourced in ``docs/telemetry.md`` (section Cost);
``ClientConfig.pricing`` overrides or extends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._config import ModelPrice

__all__ = [
    "DEFAULT_CNY_PER_USD",
    "DEFAULT_PRICES",
    "PRICES_AS_OF",
    "PRICE_SOURCES",
    "PriceTable",
    "usd_to_cny",
]

#: The default exchange rate behind ``ClientConfig.cny_per_usd``.
DEFAULT_CNY_PER_USD: Final = 7.3

_DEEPSEEK = "https://api-docs.deepseek.com/quick_start/pricing"
_OPENAI = "https://openai.com/api/pricing/"

#: The date the built-in prices were read from the providers' price pages.
PRICES_AS_OF: Final = "2026-11-01"

#: (input, output) USD per million tokens.
DEFAULT_PRICES: Final[Mapping[str, tuple[float, float]]] = {
    "deepseek-v3.2": (0.28, 0.42),
    "deepseek-chat": (0.28, 0.42),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
}

#: Where each built-in price was read (on `PRICES_AS_OF`).
PRICE_SOURCES: Final[Mapping[str, str]] = {
    model: _DEEPSEEK if model.startswith("deepseek") else _OPENAI
    for model in DEFAULT_PRICES
}


def usd_to_cny(usd: float, rate: float = DEFAULT_CNY_PER_USD) -> float:
    """
    Convert a USD amount to CNY at ``rate`` yuan per dollar.

    Args:
        usd: The amount in US dollars.
        rate: Yuan per dollar (``ClientConfig.cny_per_usd``; 7.3 by default).

    Returns:
        The amount in yuan.
    """
    return usd * rate


class PriceTable:
    """
    Looks up a model's price; unknown models cost ``None``, never a guess.

    Args:
        overrides: ``ClientConfig.pricing``: model id -> price, taking precedence.
    """

    __slots__ = ("_prices",)

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices: dict[str, tuple[float, float]] = dict(DEFAULT_PRICES)
        for model, price in (overrides or {}).items():
            self._prices[model] = (price.input, price.output)

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """
        The USD cost of a call to ``model`` (the id sent to the provider).
        """
        price = self._prices.get(model)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000

    def price(self, model: str) -> tuple[float, float] | None:
        """
        ``(input, output)`` USD per million tokens for ``model``, or ``None``.
        """
        return self._prices.get(model)

    def __contains__(self, model: object) -> bool:
        return model in self._prices

    def __repr__(self) -> str:
        return f"<PriceTable models={len(self._prices)} as_of={PRICES_AS_OF}>"
