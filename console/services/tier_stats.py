"""The tier tester's rule: what a run's samples say. Percentiles, a summary per tier, the
marks (fastest, steadiest, cheapest) and the recommendation, from samples alone — no I/O, so
the CLI, the pane and the tests read the same figures from the same code."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.records import TierRun, TierSample

# Differences smaller than this fraction of standard's figure are noise, not a finding.
MEANINGFUL = 0.05
# Priority is "steadier" when its spread is at most this fraction of standard's.
STEADIER = 0.75
# Flex shedding more than this share of calls is not a tier to build on right now.
FLEX_SHED_TOO_OFTEN = 0.5


def plan_timeouts(run: TierRun) -> dict[str, float]:
    try:
        loaded = json.loads(run.timeouts) if run.timeouts else {}
    except ValueError:
        return {}
    return {str(k): float(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


# -- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC):
    rank = q × (n − 1) over the sorted values."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def failure_kind(sample: TierSample) -> str:
    """How a failed sample reads in a table: `503`, `timeout`, `429`, `no response`."""
    if sample.status == 503:
        return "503"
    if sample.status:
        return str(sample.status)
    return "timeout" if "timed out" in (sample.error or "") else "no response"


@dataclass(frozen=True)
class TierSummary:
    """One tier's row of the summary table. Latency figures cover successful samples only:
    a 503 comes back fast and would flatter the tier."""

    tier: str
    asked: int
    ok: int
    failures: tuple[tuple[str, int], ...]
    failovers: int
    # The tiers that served the failovers, e.g. ("standard",) for downgraded priority calls.
    served_instead: tuple[str, ...]
    # Attempts beyond the first (flex with "retry 503s"): hidden in the ok count, shown here.
    retries: int
    avg_ms: float | None
    min_ms: float | None
    max_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    avg_output_tokens: float | None
    cost: float
    standard_cost: float

    @property
    def spread_ms(self) -> float | None:
        """max − min, as published; one sample has no spread to speak of."""
        if self.ok < 2 or self.max_ms is None or self.min_ms is None:
            return None
        return self.max_ms - self.min_ms

    @property
    def shed(self) -> int:
        return dict(self.failures).get("503", 0)

    @property
    def failed(self) -> int:
        return self.asked - self.ok

    @property
    def cost_per_call(self) -> float | None:
        return self.cost / self.ok if self.ok else None

    @property
    def cost_vs_standard(self) -> float | None:
        """What these calls cost relative to the same tokens on standard (−0.5 = half)."""
        if self.standard_cost <= 0:
            return None
        return self.cost / self.standard_cost - 1.0


def summarise(samples: Iterable[TierSample], tiers: Sequence[str]) -> list[TierSummary]:
    by_tier: dict[str, list[TierSample]] = {t: [] for t in tiers}
    for sample in samples:
        by_tier.setdefault(sample.tier_asked, []).append(sample)
    summaries = []
    for tier, group in by_tier.items():
        good = [s for s in group if s.ok]
        latencies = [s.latency_ms for s in good]
        kinds = Counter(failure_kind(s) for s in group if not s.ok)
        moved = [s for s in good if s.tier_served and s.tier_served != tier]
        summaries.append(TierSummary(
            tier=tier,
            asked=len(group),
            ok=len(good),
            failures=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
            failovers=len(moved),
            served_instead=tuple(sorted({s.tier_served or "" for s in moved})),
            retries=sum(max(0, s.attempts - 1) for s in group),
            avg_ms=sum(latencies) / len(latencies) if latencies else None,
            min_ms=min(latencies) if latencies else None,
            max_ms=max(latencies) if latencies else None,
            p50_ms=percentile(latencies, 0.50) if latencies else None,
            p95_ms=percentile(latencies, 0.95) if latencies else None,
            avg_output_tokens=(
                sum(s.output_tokens for s in good) / len(good) if good else None
            ),
            cost=sum(s.cost for s in good),
            standard_cost=sum(s.standard_cost for s in good),
        ))
    return summaries


@dataclass(frozen=True)
class Marks:
    """Which tier wins each column (None when the run cannot tell)."""

    fastest: str | None = None  # lowest average latency
    steadiest: str | None = None  # smallest spread, among tiers with 2+ successful samples
    cheapest: str | None = None  # lowest cost vs standard

    def cells(self) -> set[tuple[str, str]]:
        """(tier, summary column key) pairs to mark."""
        pairs = {(self.fastest, "avg"), (self.steadiest, "spread"), (self.cheapest, "vs_std")}
        return {(tier, key) for tier, key in pairs if tier is not None}


def best(summaries: Sequence[TierSummary]) -> Marks:
    measured = [s for s in summaries if s.ok]
    if len(measured) < 2:
        return Marks()
    fastest = min(measured, key=lambda s: s.avg_ms or 0.0).tier
    spread = [s for s in measured if s.ok >= 2]
    steadiest = min(spread, key=lambda s: s.spread_ms or 0.0).tier if len(spread) >= 2 else None
    priced = [s for s in measured if s.cost_vs_standard is not None]
    cheapest = (
        min(priced, key=lambda s: s.cost_vs_standard or 0.0).tier if len(priced) >= 2 else None
    )
    return Marks(fastest, steadiest, cheapest)


# -- the recommendation ------------------------------------------------------------------------


def unit_for(samples: Iterable[TierSample]) -> str:
    """Seconds when any call took a second or more, else milliseconds — one unit per run."""
    return "s" if any(s.latency_ms >= 1000 for s in samples) else "ms"


def latency(ms: float | None, unit: str) -> str:
    if ms is None:
        return "—"
    return f"{ms / 1000:.2f} s" if unit == "s" else f"{ms:.0f} ms"


def latency_delta(ms: float, unit: str) -> str:
    sign = "+" if ms >= 0 else "-"
    return sign + latency(abs(ms), unit)


def price_change(ratio: float | None) -> str:
    """−0.5 -> "50 % cheaper"; 0.8 -> "80 % dearer"."""
    if ratio is None:
        return "price unknown"
    percent = round(ratio * 100)
    if percent == 0:
        return "same price"
    return f"{abs(percent)} % {'cheaper' if percent < 0 else 'dearer'}"


def recommend(
    summaries: Sequence[TierSummary], *, unit: str = "s", retry_flex: bool = False
) -> list[str]:
    """One line per tier, measured against standard: what it costs, what it does to latency,
    what failed — and what that makes it good for."""
    by_tier = {s.tier: s for s in summaries}
    base = by_tier.get("standard")
    lines = []
    for s in summaries:
        if s.tier == "standard" or not s.asked:
            continue
        facts = [price_change(s.cost_vs_standard)] if s.ok else []
        # Latency and verdicts are measured against standard only when both have answers.
        compared_to = base if base is not None and base.ok and s.ok else None
        if compared_to is not None:
            facts.append(
                f"{latency_delta((s.avg_ms or 0) - (compared_to.avg_ms or 0), unit)} avg")
        elif s.ok:
            facts.append(f"{latency(s.avg_ms, unit)} avg (no standard runs to compare)")
        if s.tier == "flex":
            facts.append(f"{s.shed}/{s.asked} shed")
        other = s.failed - (s.shed if s.tier == "flex" else 0)
        if other:
            facts.append(f"{other}/{s.asked} failed")
        if s.retries:
            facts.append(f"{s.retries} {'retry' if s.retries == 1 else 'retries'}")
        if s.failovers:
            served = " or ".join(s.served_instead)
            moved = "downgraded to" if s.tier == "priority" else "served as"
            facts.append(f"{s.failovers}/{s.ok} {moved} {served}")
        verdict = (
            _flex_verdict(s, compared_to, retry_flex)
            if s.tier == "flex"
            else _priority_verdict(s, compared_to)
        )
        lines.append(f"{s.tier}: {', '.join(facts)} — {verdict}")
    if not lines and base is not None and base.asked:
        lines.append(
            f"standard: {base.ok}/{base.asked} ok, {latency(base.avg_ms, unit)} avg"
            " — add flex or priority to the run to compare"
        )
    return lines


def _slower(s: TierSummary, base: TierSummary) -> bool:
    return (s.avg_ms or 0) - (base.avg_ms or 0) > MEANINGFUL * (base.avg_ms or 0)


def _flex_verdict(s: TierSummary, base: TierSummary | None, retry_flex: bool) -> str:
    if not s.ok:
        return "unusable right now: every call failed; use standard, or the Batch API"
    if s.shed / s.asked > FLEX_SHED_TOO_OFTEN:
        return "sheds too often right now; send background work to the Batch API"
    if s.shed and not retry_flex:
        return "fine for background work, with 503 retries (--retry-flex)"
    if base is not None and not _slower(s, base):
        return "no slower than standard in this run; use it wherever a retry is acceptable"
    return "fine for background work, not for someone waiting"


def _priority_verdict(s: TierSummary, base: TierSummary | None) -> str:
    if not s.ok:
        return "every call failed; see the per-run errors"
    if s.failovers * 2 > s.ok:
        return "over its limit: most calls ran (and were billed) as standard"
    if base is None:
        return "run standard beside it to judge the premium"
    faster = (base.avg_ms or 0) - (s.avg_ms or 0) > MEANINGFUL * (base.avg_ms or 0)
    judged = s.spread_ms is not None and base.spread_ms is not None
    steadier = judged and (s.spread_ms or 0) <= STEADIER * (base.spread_ms or 0)
    if faster and steadier:
        return "worth it for latency-sensitive calls: faster and steadier"
    if faster:
        return "worth it for latency-sensitive calls: faster" + (
            ", though not steadier" if judged else ""
        )
    if steadier:
        return (
            f"steadier (spread {_spread(s)} vs {_spread(base)}) but not faster;"
            " worth it only for tail latency"
        )
    return "not worth the premium here: no faster or steadier than standard"


def _spread(s: TierSummary) -> str:
    return latency(s.spread_ms, "s" if (s.max_ms or 0) >= 1000 else "ms")


# -- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierReport:
    """A run with its samples, summary, marks and recommendation."""

    run: TierRun
    samples: list[TierSample]
    summaries: list[TierSummary]
    marks: Marks
    recommendation: list[str]
    unit: str

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(t for t in self.run.tiers.split(",") if t)

    @property
    def total(self) -> int:
        return self.run.runs_per_tier * len(self.tiers)

    @property
    def done(self) -> int:
        return len(self.samples)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if s.ok)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.samples)


def build_report(run: TierRun, samples: Sequence[TierSample]) -> TierReport:
    tiers = [t for t in run.tiers.split(",") if t]
    summaries = summarise(samples, tiers)
    unit = unit_for(samples)
    return TierReport(
        run=run, samples=list(samples), summaries=summaries, marks=best(summaries),
        recommendation=recommend(summaries, unit=unit, retry_flex=run.retry_flex), unit=unit,
    )
