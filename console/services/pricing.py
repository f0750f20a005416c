"""Gemini price table and the rules that turn token counts into dollars and savings (pure)."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from console.services.wording import plural

__all__ = [
    "DEFAULT_BATCH_DISCOUNT",
    "DEFAULT_TIER_MULTIPLIERS",
    "LONG_CONTEXT_THRESHOLD",
    "TOKENS_PER_RATE_UNIT",
    "CallCost",
    "ModelPrice",
    "PriceTable",
    "ScenarioCost",
    "UnknownModelPrice",
    "Usage",
    "Workload",
    "call_cost",
    "compare",
    "normalise_model_name",
    "normalise_tier",
    "render_comparison",
    "rows_as_dicts",
    "storage_cost",
]

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


def _per_rate_unit(tokens: int | float, rate: float) -> float:
    return tokens * rate / TOKENS_PER_RATE_UNIT


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


_MODEL_PRICE_KEYS = frozenset(f.name for f in dataclasses.fields(ModelPrice)) - {"name"}


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


def _new_model_defaults(name: str) -> dict[str, Any]:
    # A model added only by TOML inherits the family's cache storage and minimum, which
    # the facts file gives per family (Pro vs Flash), when the TOML leaves them out.
    if "pro" in name.split("-"):
        return {"cache_storage_per_hour": 4.50, "cache_min_tokens": 4096}
    return {"cache_storage_per_hour": 1.00, "cache_min_tokens": 1024}


def _model_price_from_entry(
    name: str, entry: Mapping[str, Any], base: ModelPrice | None
) -> ModelPrice:
    if not isinstance(entry, Mapping):
        raise ValueError(f"models.{name!r} must be a table of rates, got {entry!r}")
    unknown = set(entry) - _MODEL_PRICE_KEYS
    if unknown:
        raise ValueError(
            f"models.{name!r}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(_MODEL_PRICE_KEYS))}"
        )
    if base is not None:
        return dataclasses.replace(base, **entry)
    missing = {"input", "output"} - set(entry)
    if missing:
        raise ValueError(f"new model {name!r} needs {' and '.join(sorted(missing))} rates")
    return ModelPrice(name=name, **{**_new_model_defaults(name), **entry})


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
        base = base if base is not None else cls.default()
        unknown = set(data) - {"models", "tiers", "batch_discount"}
        if unknown:
            raise ValueError(
                f"unknown price-table key(s): {', '.join(sorted(unknown))}; "
                "expected models, tiers, batch_discount"
            )
        models = dict(base.models)
        for raw_name, entry in (data.get("models") or {}).items():
            name = normalise_model_name(raw_name)
            # Only an exact entry is a base to merge over: a new variant is a new model.
            models[name] = _model_price_from_entry(name, entry, models.get(name))
        tiers = {**base.tiers, **(data.get("tiers") or {})}
        batch_discount = float(data.get("batch_discount", base.batch_discount))
        return cls(models=models, tiers=tiers, batch_discount=batch_discount)

    @classmethod
    def from_toml(cls, path: str | Path, *, base: PriceTable | None = None) -> PriceTable:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
        try:
            return cls.from_mapping(data, base=base)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from error

    @classmethod
    def load(cls, path: str | Path | None) -> PriceTable:
        """The table in use: the defaults, with the settings' price file merged over them."""
        return cls.from_toml(Path(path).expanduser()) if path else cls.default()

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


@dataclass(frozen=True)
class Usage:
    """Token counts of one call as usageMetadata reports them.

    `prompt_tokens` INCLUDES `cached_tokens` and `audio_prompt_tokens`. `output_tokens`
    counts text output only (images are billed per image via `images_out`), and
    `thought_tokens` are counted separately but billed as output.
    """

    prompt_tokens: int
    cached_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0
    images_out: int = 0
    audio_prompt_tokens: int = 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"usage {f.name} must not be negative: {self}")
        if self.cached_tokens > self.prompt_tokens:
            raise ValueError(
                f"cached_tokens ({self.cached_tokens}) exceed prompt_tokens "
                f"({self.prompt_tokens}); prompt_tokens must include the cached part"
            )

    @property
    def billed_output_tokens(self) -> int:
        return self.output_tokens + self.thought_tokens

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], *, images_out: int = 0) -> Usage:
        """Build from a usageMetadata dict, in REST camelCase or SDK snake_case.

        Image-modality candidate tokens are dropped from `output_tokens` because images
        are billed per image; pass the image count as `images_out`.
        """

        def pick(camel: str, snake: str) -> Any:
            value = metadata.get(camel)
            return metadata.get(snake) if value is None else value

        def modality_tokens(details: Any, modality: str) -> int:
            total = 0
            for item in details or ():
                kind = str(item.get("modality") or "").upper()
                if kind.endswith(modality):
                    total += int(item.get("tokenCount", item.get("token_count")) or 0)
            return total

        output = int(pick("candidatesTokenCount", "candidates_token_count") or 0)
        image_tokens = modality_tokens(
            pick("candidatesTokensDetails", "candidates_tokens_details"), "IMAGE"
        )
        return cls(
            prompt_tokens=int(pick("promptTokenCount", "prompt_token_count") or 0),
            cached_tokens=int(pick("cachedContentTokenCount", "cached_content_token_count") or 0),
            output_tokens=max(output - image_tokens, 0) if images_out else output,
            thought_tokens=int(pick("thoughtsTokenCount", "thoughts_token_count") or 0),
            images_out=images_out,
            audio_prompt_tokens=modality_tokens(
                pick("promptTokensDetails", "prompt_tokens_details"), "AUDIO"
            ),
        )


@dataclass(frozen=True)
class CallCost:
    """What a call cost and what it would have cost standard, unbatched and uncached."""

    cost: float
    standard_cost: float
    savings: float


def _priced_call(
    price: ModelPrice, usage: Usage, *, multiplier: float, cached_tokens: int
) -> float:
    long_context = price.is_long_context(usage.prompt_tokens)
    uncached = usage.prompt_tokens - cached_tokens
    # Cached content is assumed to be non-audio; audio counts only within the uncached part.
    audio = min(usage.audio_prompt_tokens, uncached)
    text = uncached - audio
    discounted = (
        _per_rate_unit(text, price.input_rate(long_context))
        + _per_rate_unit(audio, price.audio_rate(long_context))
        + _per_rate_unit(usage.billed_output_tokens, price.output_rate(long_context))
    )
    if usage.images_out:
        if price.image_output is None:
            raise ValueError(f"{price.name} has no per-image price but the call made images")
        discounted += usage.images_out * price.image_output
    # Cached tokens pay the flat cache-read rate: neither the batch discount nor a tier
    # multiplier applies to them (the discounts do not multiply).
    cached = _per_rate_unit(cached_tokens, price.cache_read_rate(long_context))
    return discounted * multiplier + cached


def call_cost(
    table: PriceTable,
    model: str,
    usage: Usage,
    *,
    tier: str | None = "standard",
    batch: bool = False,
) -> CallCost:
    """Cost of one call; a batched call must not also name a non-standard tier."""
    price = table.for_model(model)
    tier_multiplier = table.tier_multiplier(tier)
    if batch and normalise_tier(tier) != "standard":
        raise ValueError(f"batch calls have batch pricing, not the {tier!r} tier")
    multiplier = table.batch_multiplier if batch else tier_multiplier
    cost = _priced_call(price, usage, multiplier=multiplier, cached_tokens=usage.cached_tokens)
    standard = _priced_call(price, usage, multiplier=1.0, cached_tokens=0)
    return CallCost(cost=cost, standard_cost=standard, savings=standard - cost)


def storage_cost(table: PriceTable, model: str, tokens: int, hours: float) -> float:
    """Storage charge of an explicit cache holding `tokens` for `hours`."""
    if tokens < 0 or hours < 0:
        raise ValueError(f"tokens and hours must not be negative (got {tokens}, {hours})")
    price = table.for_model(model)
    return _per_rate_unit(tokens, price.cache_storage_per_hour) * hours


# ---------------------------------------------------------------------------------------
# What-if calculator behind `gemops cost`.

_WORKLOAD_INT_FIELDS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "shared_context_tokens",
    "queries_per_context",
    "thought_tokens",
)


@dataclass
class Workload:
    """A planned workload; `input_tokens` is per request and excludes the shared context."""

    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    shared_context_tokens: int = 0
    queries_per_context: int = 1
    cache_hours: float = 1.0
    thought_tokens: int = 0

    def __post_init__(self) -> None:
        for name in _WORKLOAD_INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"workload {name} must be a whole number >= 0 (got {value!r})")
        if self.queries_per_context < 1:
            raise ValueError("workload queries_per_context must be at least 1")
        if isinstance(self.cache_hours, bool) or not isinstance(self.cache_hours, int | float):
            raise ValueError(f"workload cache_hours must be a number (got {self.cache_hours!r})")
        if self.cache_hours < 0:
            raise ValueError("workload cache_hours must not be negative")

    @property
    def contexts(self) -> int:
        return math.ceil(self.requests / self.queries_per_context)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Workload:
        # Accept the fields at top level or under a [workload] table.
        body = data.get("workload", data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(body) - known
        if unknown:
            raise ValueError(
                f"unknown workload key(s): {', '.join(sorted(unknown))}; "
                f"expected some of {', '.join(sorted(known))}"
            )
        try:
            return cls(**body)
        except TypeError as error:
            raise ValueError(f"incomplete workload: {error}") from error

    @classmethod
    def from_toml(cls, path: str | Path) -> Workload:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
        try:
            return cls.from_mapping(data)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error


@dataclass
class ScenarioCost:
    """One row of the what-if comparison."""

    name: str
    total: float
    savings_vs_standard_pct: float
    notes: str = ""
    cheapest: bool = False
    # False when the scenario cannot run (e.g. shared context below the cache minimum);
    # its total is then only indicative and it is never the cheapest.
    possible: bool = True


def _workload_cost(
    table: PriceTable, workload: Workload, *, tier: str, batch: bool, cached: bool
) -> float:
    price = table.for_model(workload.model)
    usage = Usage(
        prompt_tokens=workload.shared_context_tokens + workload.input_tokens,
        cached_tokens=workload.shared_context_tokens if cached else 0,
        output_tokens=workload.output_tokens,
        thought_tokens=workload.thought_tokens,
    )
    per_request = call_cost(table, price.name, usage, tier=tier, batch=batch).cost
    total = per_request * workload.requests
    if cached:
        total += workload.contexts * storage_cost(
            table, price.name, workload.shared_context_tokens, workload.cache_hours
        )
    return total


def _cache_impossibility(price: ModelPrice, workload: Workload) -> str | None:
    if workload.shared_context_tokens == 0:
        return "not possible: no shared context to cache"
    if workload.shared_context_tokens < price.cache_min_tokens:
        return (
            f"not possible: shared context {workload.shared_context_tokens:,} tokens is below "
            f"{price.name}'s cache minimum of {price.cache_min_tokens:,}"
        )
    return None


def compare(table: PriceTable, workload: Workload) -> list[ScenarioCost]:
    """Total cost of `workload` under each pricing scenario; exactly one row is cheapest."""
    price = table.for_model(workload.model)
    storage = workload.contexts * storage_cost(
        table, price.name, workload.shared_context_tokens, workload.cache_hours
    )
    storage_note = (
        f"{plural(workload.contexts, 'cache')} x {workload.shared_context_tokens:,} tokens "
        f"x {workload.cache_hours:g} h storage = ${storage:,.4f}"
    )
    cache_blocker = _cache_impossibility(price, workload)
    plans = [
        ("standard", "standard", False, False, "baseline"),
        ("flex", "flex", False, False, "may queue or answer 503; retry with long timeouts"),
        ("priority", "priority", False, False, "over its limits, silently served as standard"),
        ("batch", "standard", True, False, "target turnaround 24 h; expires after 48 h"),
        ("explicit cache", "standard", False, True, storage_note),
        ("cache + batch", "standard", True, True, storage_note),
    ]
    rows: list[ScenarioCost] = []
    standard_total = 0.0
    for name, tier, batch, cached, note in plans:
        total = _workload_cost(table, workload, tier=tier, batch=batch, cached=cached)
        if name == "standard":
            standard_total = total
        possible = not (cached and cache_blocker)
        savings_pct = (standard_total - total) / standard_total * 100 if standard_total else 0.0
        rows.append(
            ScenarioCost(
                name=name,
                total=total,
                savings_vs_standard_pct=savings_pct,
                notes=note if possible else str(cache_blocker),
                possible=possible,
            )
        )
    # Ties go to the earlier (simpler) scenario, so plain standard wins an all-zero workload.
    cheapest = min((row for row in rows if row.possible), key=lambda row: row.total)
    cheapest.cheapest = True
    return rows


def _format_usd(amount: float) -> str:
    return f"{amount:,.4f}"


def render_comparison(rows: Sequence[ScenarioCost]) -> str:
    """Fixed-width plain-text table of a comparison, for the CLI."""
    header = ("scenario", "total $", "savings %", "note")
    body = []
    for row in rows:
        if row.possible:
            total, savings = _format_usd(row.total), f"{row.savings_vs_standard_pct:.1f}%"
        else:
            total, savings = "—", "—"
        note = f"← cheapest; {row.notes}" if row.cheapest else row.notes
        body.append((row.name, total, savings, note))
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(3)]
    lines = []
    for name, total, savings, note in (header, *body):
        line = f"{name:<{widths[0]}}  {total:>{widths[1]}}  {savings:>{widths[2]}}  {note}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def rows_as_dicts(rows: Sequence[ScenarioCost]) -> list[dict[str, Any]]:
    """JSON-ready rows for `gemops cost --json`; money rounded to micro-dollars."""
    return [
        {
            "name": row.name,
            "total": round(row.total, 6),
            "savings_vs_standard_pct": round(row.savings_vs_standard_pct, 2),
            "notes": row.notes,
            "cheapest": row.cheapest,
            "possible": row.possible,
        }
        for row in rows
    ]
