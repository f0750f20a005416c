"""The rules that turn token counts into dollars and savings: the cost of one call, a cache's
storage, and the what-if comparison of a workload on every lever (pure). The table they price
with is `price_table` (its names are importable from here too); reading TOML is `price_files`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.services.price_table import (
    DEFAULT_BATCH_DISCOUNT,
    DEFAULT_TIER_MULTIPLIERS,
    LONG_CONTEXT_THRESHOLD,
    TOKENS_PER_RATE_UNIT,
    ModelPrice,
    PriceTable,
    UnknownModelPrice,
    normalise_model_name,
    normalise_tier,
)
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


def _per_rate_unit(tokens: int | float, rate: float) -> float:
    return tokens * rate / TOKENS_PER_RATE_UNIT


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
        """The fields at top level or under a [workload] table."""
        from console.services.price_files import workload_from_mapping

        return workload_from_mapping(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> Workload:
        from console.services.price_files import read_workload

        return read_workload(path)


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
