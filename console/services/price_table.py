"""The Gemini price table: per-model rates, tier multipliers and the batch discount, with the
lookups the cost rules use (a model by exact name or family prefix, a tier by any spelling).
Pure data: reading and merging TOML price files is in `price_files`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Every token rate in the table is quoted per 1M tokens, as Google publishes them.
TOKENS_PER_RATE_UNIT = 1_000_000
LONG_CONTEXT_THRESHOLD = 200_000

# Cached input costs a fixed fraction of the input rate: 10 % from the 2.5 generation on,
# 25 % before it. Unrecognised names get the older, dearer fraction so that estimated
# savings are never overstated.
_CACHE_READ_FRACTION_MODERN = 0.10
_CACHE_READ_FRACTION_LEGACY = 0.25
_MODERN_CACHE_GENERATION = (2, 5)

_GENERATION_RE = re.compile(r"^gemini-(\d+)(?:\.(\d+))?")
# A prefix only matches at a name-part boundary, so "gemini-2.5-flashy" is not Flash.
_NAME_BOUNDARIES = frozenset("-@:")


class UnknownModelPrice(LookupError):
    """No price-table entry matches a model name, even by family prefix."""

    def __init__(self, model: str, known: Iterable[str]) -> None:
        self.model = model
        self.known = tuple(sorted(known))
        super().__init__(
            f"no price for model {model!r}; known models: {', '.join(self.known)}. "
            'Add it under [models."<name>"] in the price-table TOML.'
        )


def normalise_model_name(model: str) -> str:
    """`models/Gemini-2.5-Flash` (or a longer resource path) -> `gemini-2.5-flash`."""
    name = model.strip().lower()
    # Resource paths ("models/x", "publishers/google/models/x") end with the bare name.
    return name.rsplit("/", 1)[-1]


def normalise_tier(tier: str | None) -> str:
    """`None`, `"FLEX"`, `"SERVICE_TIER_FLEX"` -> `"standard"`, `"flex"`, `"flex"`."""
    if tier is None:
        return "standard"
    name = tier.strip().lower().removeprefix("service_tier_")
    # Omitting the tier (or sending the proto's UNSPECIFIED) means standard.
    return "standard" if name in ("", "unspecified") else name


def _default_cache_read_fraction(model: str) -> float:
    match = _GENERATION_RE.match(model)
    if match is None:
        return _CACHE_READ_FRACTION_LEGACY
    generation = (int(match.group(1)), int(match.group(2) or 0))
    if generation >= _MODERN_CACHE_GENERATION:
        return _CACHE_READ_FRACTION_MODERN
    return _CACHE_READ_FRACTION_LEGACY


@dataclass(frozen=True)
class ModelPrice:
    """Standard-tier USD rates for one model; token rates are per 1M tokens."""

    name: str
    input: float
    output: float
    # Rates for calls whose prompt exceeds long_context_threshold; None = no surcharge.
    long_context_input: float | None = None
    long_context_output: float | None = None
    long_context_threshold: int = LONG_CONTEXT_THRESHOLD
    # None = audio bills at the ordinary input rate.
    audio_input: float | None = None
    # None = derived from the input rate (10 % for 2.5+, 25 % before), so overriding
    # `input` alone keeps the cache rate consistent.
    cache_read: float | None = None
    cache_storage_per_hour: float = 1.0
    cache_min_tokens: int = 1024
    # USD per generated image; None = the model does not bill images.
    image_output: float | None = None
    # The most input tokens one request may carry (every current text model: 1,048,576).
    input_token_limit: int = 1_048_576

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "name" and value is not None and value < 0:
                raise ValueError(f"{self.name}: {f.name} must not be negative (got {value})")
        if (self.long_context_input is None) != (self.long_context_output is None):
            raise ValueError(
                f"{self.name}: give both long_context_input and long_context_output, or neither"
            )

    @property
    def has_long_context_rates(self) -> bool:
        return self.long_context_input is not None

    def is_long_context(self, prompt_tokens: int) -> bool:
        return self.has_long_context_rates and prompt_tokens > self.long_context_threshold

    @property
    def cache_read_fraction(self) -> float:
        if self.cache_read is None:
            return _default_cache_read_fraction(self.name)
        return self.cache_read / self.input if self.input else 0.0

    def input_rate(self, long_context: bool = False) -> float:
        if long_context and self.long_context_input is not None:
            return self.long_context_input
        return self.input

    def output_rate(self, long_context: bool = False) -> float:
        if long_context and self.long_context_output is not None:
            return self.long_context_output
        return self.output

    def cache_read_rate(self, long_context: bool = False) -> float:
        # Long-context cache reads keep the same fraction of the (higher) long-context input
        # rate, which is how the published 2.5 Pro figures relate (0.125 / 0.25).
        if self.cache_read is not None and not long_context:
            return self.cache_read
        return self.input_rate(long_context) * self.cache_read_fraction

    def audio_rate(self, long_context: bool = False) -> float:
        if self.audio_input is not None:
            return self.audio_input
        return self.input_rate(long_context)


def _default_models() -> dict[str, ModelPrice]:
    # Figures from shared/reference/gemini-facts.md unless a comment says otherwise.
    prices = [
        ModelPrice(
            "gemini-2.5-pro",
            input=1.25,
            output=10.00,
            long_context_input=2.50,
            long_context_output=15.00,
            # Pro storage is the commonly quoted figure, UNCONFIRMED by any primary source.
            cache_storage_per_hour=4.50,
            cache_min_tokens=4096,
        ),
        ModelPrice(
            "gemini-2.5-flash",
            input=0.30,
            output=2.50,
            audio_input=1.00,
            # Flash / Flash-Lite storage is a third-party figure (UNCONFIRMED).
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
        ModelPrice(
            "gemini-2.5-flash-lite",
            input=0.10,
            output=0.40,
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
        ModelPrice(
            "gemini-2.0-flash",
            input=0.10,
            output=0.40,
            # Pre-2.5 generation: cache reads at 25 % of input (derived from the name).
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
        ModelPrice(
            "gemini-2.5-flash-image",
            # ASSUMED: text tokens at 2.5 Flash rates; the facts file only gives ≈ $0.04/image.
            input=0.30,
            output=2.50,
            image_output=0.04,
            input_token_limit=32_768,
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
        # The 3.x entries below are ASSUMED placeholders (the facts file names the models
        # but publishes no prices); override them in the price-table TOML.
        ModelPrice(
            "gemini-3.5-flash",
            input=0.50,
            output=3.00,
            audio_input=1.00,
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
        ModelPrice(
            "gemini-3.1-pro",
            input=2.00,
            output=12.00,
            long_context_input=4.00,
            long_context_output=18.00,
            cache_storage_per_hour=4.50,
            cache_min_tokens=4096,
        ),
        ModelPrice(
            "gemini-3.1-flash-lite",
            input=0.25,
            output=1.50,
            cache_storage_per_hour=1.00,
            cache_min_tokens=1024,
        ),
    ]
    return {price.name: price for price in prices}


# Flex -50 %; priority is "+75-100 %", 1.8x being the third-party figure for 2.5 (UNCONFIRMED).
DEFAULT_TIER_MULTIPLIERS: Mapping[str, float] = MappingProxyType(
    {"flex": 0.5, "standard": 1.0, "priority": 1.8}
)
# Fraction taken OFF the standard price for Batch API calls (50 % of standard).
DEFAULT_BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class PriceTable:
    """Per-model rates plus tier multipliers and the batch discount."""

    models: Mapping[str, ModelPrice]
    tiers: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TIER_MULTIPLIERS))
    batch_discount: float = DEFAULT_BATCH_DISCOUNT

    def __post_init__(self) -> None:
        # Read-only views so a shared table cannot be changed under the ledger's feet.
        models = {normalise_model_name(name): price for name, price in self.models.items()}
        tiers = {normalise_tier(name): float(mult) for name, mult in self.tiers.items()}
        tiers.setdefault("standard", 1.0)
        if any(mult < 0 for mult in tiers.values()):
            raise ValueError(f"tier multipliers must not be negative: {tiers}")
        if not 0.0 <= self.batch_discount <= 1.0:
            raise ValueError(f"batch_discount is a fraction off, 0..1 (got {self.batch_discount})")
        object.__setattr__(self, "models", MappingProxyType(models))
        object.__setattr__(self, "tiers", MappingProxyType(tiers))

    @classmethod
    def default(cls) -> PriceTable:
        return cls(models=_default_models())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: PriceTable | None = None) -> PriceTable:
        """Merge `{"models": {...}, "tiers": {...}, "batch_discount": x}` over `base` (defaults)."""
        from console.services.price_files import merge_price_table

        return merge_price_table(data, base=base if base is not None else cls.default())

    @classmethod
    def from_toml(cls, path: str | Path, *, base: PriceTable | None = None) -> PriceTable:
        from console.services.price_files import read_price_table

        return read_price_table(path, base=base)

    @classmethod
    def load(cls, path: str | Path | None) -> PriceTable:
        """The table in use: the defaults, with the settings' price file merged over them."""
        from console.services.price_files import load_price_table

        return load_price_table(path)

    @property
    def batch_multiplier(self) -> float:
        return 1.0 - self.batch_discount

    def for_model(self, model: str) -> ModelPrice:
        """Exact entry, else the longest entry that prefixes the name at a `-`/`@`/`:` boundary."""
        name = normalise_model_name(model)
        price = self.models.get(name)
        if price is not None:
            return price
        best: str | None = None
        for known in self.models:
            if (
                name.startswith(known)
                and name[len(known)] in _NAME_BOUNDARIES
                and (best is None or len(known) > len(best))
            ):
                best = known
        if best is None:
            raise UnknownModelPrice(model, self.models)
        return self.models[best]

    def tier_multiplier(self, tier: str | None) -> float:
        name = normalise_tier(tier)
        try:
            return self.tiers[name]
        except KeyError:
            raise ValueError(
                f"unknown service tier {tier!r}; known tiers: {', '.join(sorted(self.tiers))}"
            ) from None
