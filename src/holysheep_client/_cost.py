"""
Prices in USD per million tokens, and the cost of a call.

The built-in table is dated and sourced in ``docs/telemetry.md`` (section Cost);
``ClientConfig.pricing`` overrides or extends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from ._config import ModelPrice
from ._models import Usage

#: input, output, cache read, cache write (USD per million tokens).
Price: TypeAlias = tuple[float, float, float | None, float | None]

__all__ = [
    "DEFAULT_CNY_PER_USD",
    "DEFAULT_PRICES",
    "Price",
    "PRICES_AS_OF",
    "PRICE_SOURCES",
    "PriceTable",
    "usd_to_cny",
]

#: The default exchange rate behind ``ClientConfig.cny_per_usd``.
DEFAULT_CNY_PER_USD: Final = 7.3

_DEEPSEEK = "https://api-docs.deepseek.com/quick_start/pricing"
_OPENAI = "https://openai.com/api/pricing/"
_ANTHROPIC = "https://www.anthropic.com/pricing#api"

#: The date the built-in prices were read from the providers' price pages.
PRICES_AS_OF: Final = "2026-11-01"

#: USD per million tokens: input, output, cache read, cache write. A cache price
#: of ``None`` means the provider bills those tokens at the input price.
DEFAULT_PRICES: Final[Mapping[str, Price]] = {
    "deepseek-v3.2": (0.28, 0.42, 0.028, None),
    "deepseek-chat": (0.28, 0.42, 0.028, None),
    "gpt-4.1": (2.00, 8.00, 0.50, None),
    "gpt-4.1-mini": (0.40, 1.60, 0.10, None),
    "gpt-4.1-nano": (0.10, 0.40, 0.025, None),
    "gpt-4o": (2.50, 10.00, 1.25, None),
    "gpt-4o-mini": (0.15, 0.60, 0.075, None),
    "claude-sonnet-4-5": (3.00, 15.00, 0.30, 3.75),
    "claude-haiku-4-5": (1.00, 5.00, 0.10, 1.25),
}

#: Where each built-in price was read (on `PRICES_AS_OF`).
PRICE_SOURCES: Final[Mapping[str, str]] = {
    model: _DEEPSEEK
    if model.startswith("deepseek")
    else _ANTHROPIC
    if model.startswith("claude")
    else _OPENAI
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
        self._prices: dict[str, Price] = dict(DEFAULT_PRICES)
        for model, p in (overrides or {}).items():
            self._prices[model] = (p.input, p.output, p.cache_read, p.cache_write)

    def cost(
        self, model: str, usage: Usage | int, output_tokens: int | None = None
    ) -> float | None:
        """
        The USD cost of a call to ``model`` (the id sent to the provider).

        Cached input tokens are priced at the cache-read and cache-write prices; the
        rest of ``usage.input_tokens`` (which counts every input token) at the input
        price. ``cost(model, input_tokens, output_tokens)`` prices plain counts.
        """
        price = self._prices.get(model)
        if price is None:
            return None
        if not isinstance(usage, Usage):
            usage = Usage(usage, output_tokens or 0)
        inp, out, read, write = price
        cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        total = (
            max(usage.input_tokens - cached, 0) * inp
            + usage.cache_read_input_tokens * (inp if read is None else read)
            + usage.cache_creation_input_tokens * (inp if write is None else write)
            + usage.output_tokens * out
        )
        return total / 1_000_000

    def price(self, model: str) -> tuple[float, float] | None:
        """
        ``(input, output)`` USD per million tokens for ``model``, or ``None``.
        """
        p = self._prices.get(model)
        return None if p is None else (p[0], p[1])

    def cache_price(self, model: str) -> tuple[float, float] | None:
        """
        ``(cache read, cache write)`` USD per million tokens for ``model``, or ``None``.
        """
        p = self._prices.get(model)
        if p is None:
            return None
        return (p[0] if p[2] is None else p[2], p[0] if p[3] is None else p[3])

    def __contains__(self, model: object) -> bool:
        return model in self._prices

    def __repr__(self) -> str:
        return f"<PriceTable models={len(self._prices)} as_of={PRICES_AS_OF}>"
