"""The tier tester's report as people read it: the summary and per-run tables as cells (the
pane's rows), and the whole report as a table, Markdown, JSON or CSV (via the shared
`console.services.render`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from console.services import render as shared
from console.services.tier_stats import (
    Marks,
    TierReport,
    TierSummary,
    failure_kind,
    latency,
    latency_delta,
    plan_timeouts,
)
from console.services.tier_terms import FORMATS, PARTS
from console.services.wording import plural
from console.settings import TIERS
from store.records import TierRun, TierSample

if TYPE_CHECKING:
    from console.services.tiers import SampleArrived

# Words left, figures right, the way a terminal table reads best.
LEFT = frozenset({"tier", "served", "error", "ok"})

# -- tables as cells ---------------------------------------------------------------------------

SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("ok", "OK"),
    ("avg", "Avg"),
    ("min", "Min"),
    ("max", "Max"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("spread", "Spread"),
    ("avg_out", "Avg out"),
    ("per_call", "$/call"),
    ("vs_std", "vs standard"),
    ("failovers", "Failovers"),
    ("errors", "Errors"),
]

SAMPLE_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("run", "Run"),
    ("ok", "OK"),
    ("latency", "Latency (wall)"),
    ("http", "HTTP"),
    ("served", "Served"),
    ("in", "In"),
    ("out", "Out"),
    ("thought", "Thought"),
    ("total", "Total"),
    ("attempts", "Tries"),
    ("cost", "Cost"),
    ("error", "Error"),
]

LATENCY_NOTE = (
    "Latency (wall): the caller's wait for the whole call, incl. client pacing and retries; "
    "HTTP: the last attempt's exchange. Summary latencies cover successful calls only; "
    "p50/p95 interpolate between ranks."
)


def ratio_text(ratio: float | None, tier: str) -> str:
    if ratio is None:
        return "—"
    if tier == "standard" and abs(ratio) < 0.005:
        return "baseline"
    return f"{ratio * 100:+.0f} %"


def summary_cells(report: TierReport) -> list[dict[str, str]]:
    unit = report.unit
    rows = []
    for s in report.summaries:
        rows.append({
            "tier": s.tier,
            "ok": f"{s.ok}/{s.asked}",
            "avg": latency(s.avg_ms, unit),
            "min": latency(s.min_ms, unit),
            "max": latency(s.max_ms, unit),
            "p50": latency(s.p50_ms, unit),
            "p95": latency(s.p95_ms, unit),
            "spread": latency(s.spread_ms, unit),
            "avg_out": "—" if s.avg_output_tokens is None else f"{s.avg_output_tokens:.0f}",
            "per_call": shared.usd(s.cost_per_call),
            "vs_std": ratio_text(s.cost_vs_standard, s.tier),
            "failovers": f"{s.failovers}" if s.ok else "—",
            "errors": (", ".join(f"{n}×{kind}" for kind, n in s.failures) or "0")
            + (f" +{s.retries} retried" if s.retries else ""),
        })
    return rows


def sample_cells(sample: TierSample, unit: str) -> dict[str, str]:
    return {
        "tier": sample.tier_asked,
        "run": str(sample.seq),
        "ok": "✓" if sample.ok else f"✗ {failure_kind(sample)}",
        "latency": latency(sample.latency_ms, unit),
        "http": latency(sample.api_latency_ms, unit),
        "served": sample.tier_served or "—",
        "in": str(sample.prompt_tokens) if sample.ok else "—",
        "out": str(sample.output_tokens) if sample.ok else "—",
        "thought": str(sample.thought_tokens) if sample.ok else "—",
        "total": str(sample.total_tokens) if sample.ok else "—",
        "attempts": str(sample.attempts),
        "cost": shared.usd(sample.cost) if sample.ok else "—",
        "error": sample.error or "",
    }


def ordered_samples(report: TierReport) -> list[TierSample]:
    """The breakdown's order: by tier (the run's order), then run number."""
    rank = {t: i for i, t in enumerate(report.tiers)}
    return sorted(report.samples, key=lambda s: (rank.get(s.tier_asked, 99), s.seq))


def run_title(run: TierRun) -> str:
    mode = "sequential" if run.concurrency == 1 else f"{run.concurrency} at a time"
    retry = ", flex 503s retried" if run.retry_flex else ""
    return (
        f"tier run #{run.id}: {run.model}, {plural(run.runs_per_tier, 'run')} per tier, "
        f"{run.run_order}, {mode}{retry}"
    )


def status_text(report: TierReport) -> str:
    run = report.run
    note = f" ({run.note})" if run.note else ""
    return f"{run.status}{note}: {report.done}/{report.total} samples, {report.ok} ok"


def progress_line(event: SampleArrived) -> str:
    """One line per sample for a terminal watching a run."""
    s = event.sample
    width = len(str(event.total))
    unit = "s" if s.latency_ms >= 1000 else "ms"
    served = f"served {s.tier_served}" if s.ok else (s.error or "failed")
    return (
        f"[{event.done:>{width}}/{event.total}] {s.tier_asked:<8} #{s.seq:<3} "
        f"{'ok ' if s.ok else 'ERR'} {latency(s.latency_ms, unit):>9}  {served}"
    )


# -- rendering: table | markdown | json | csv --------------------------------------------------



def render(report: TierReport, fmt: str = "table", *, only: str | None = None) -> str:
    """The run's two tables (or `only` one) as text, Markdown, JSON or CSV."""
    parts = (only,) if only else PARTS
    if fmt == "json":
        return shared.json_text(_report_dict(report, parts))
    if fmt == "csv":
        return _render_csv(report, parts)
    if fmt not in ("table", "markdown"):
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    markdown = fmt == "markdown"
    marked = report.marks.cells()
    blocks = [("## " if markdown else "") + run_title(report.run), status_text(report)]
    if "summary" in parts:
        cells = summary_cells(report)
        for row in cells:
            for key in row:
                if (row["tier"], key) in marked:
                    row[key] = f"**{row[key]}**" if markdown else f"{row[key]} *"
        blocks.append(shared.grid(SUMMARY_COLUMNS, cells, markdown=markdown, left=LEFT))
        legend = _legend(report.marks)
        if legend:
            blocks.append(("marked in bold: " if markdown else "* ") + legend)
    if "runs" in parts:
        rows = [sample_cells(s, report.unit) for s in ordered_samples(report)]
        blocks.append(shared.grid(SAMPLE_COLUMNS, rows, markdown=markdown, left=LEFT)
                      if rows else "no samples recorded")
    blocks.append(("_" + LATENCY_NOTE + "_") if markdown else LATENCY_NOTE)
    if report.recommendation and "summary" in parts:
        bullet = "- " if markdown else ""
        head = "**Recommendation**" if markdown else "Recommendation:"
        blocks.append("\n".join([head, *(bullet + line for line in report.recommendation)]))
    return "\n\n".join(blocks) + "\n"


def _legend(marks: Marks) -> str:
    found = [
        f"{what}: {tier}"
        for what, tier in (
            ("fastest (avg)", marks.fastest),
            ("steadiest (spread)", marks.steadiest),
            ("cheapest (vs standard)", marks.cheapest),
        )
        if tier
    ]
    return ", ".join(found)


def _summary_record(s: TierSummary) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "tier": s.tier, "samples": s.asked, "ok": s.ok,
        "avg_ms": ms(s.avg_ms), "min_ms": ms(s.min_ms), "max_ms": ms(s.max_ms),
        "p50_ms": ms(s.p50_ms), "p95_ms": ms(s.p95_ms), "spread_ms": ms(s.spread_ms),
        "avg_output_tokens": None if s.avg_output_tokens is None else round(s.avg_output_tokens, 1),
        "cost_usd": round(s.cost, 8), "standard_cost_usd": round(s.standard_cost, 8),
        "cost_vs_standard": None if s.cost_vs_standard is None else round(s.cost_vs_standard, 4),
        "failovers": s.failovers, "shed": s.shed, "retries": s.retries,
        "failures": {kind: n for kind, n in s.failures},
    }


def _sample_record(s: TierSample) -> dict[str, Any]:
    return {
        "tier": s.tier_asked, "run": s.seq, "ok": s.ok, "status": s.status,
        "latency_ms": round(s.latency_ms, 1),
        "http_latency_ms": None if s.api_latency_ms is None else round(s.api_latency_ms, 1),
        "served": s.tier_served, "input_tokens": s.prompt_tokens,
        "cached_tokens": s.cached_tokens, "output_tokens": s.output_tokens,
        "thought_tokens": s.thought_tokens, "total_tokens": s.total_tokens,
        "attempts": s.attempts, "cost_usd": round(s.cost, 8), "error": s.error, "at": s.at,
    }


def _report_dict(report: TierReport, parts: Sequence[str]) -> dict[str, Any]:
    run = report.run
    body: dict[str, Any] = {
        "run": {
            "id": run.id, "model": run.model, "tiers": list(report.tiers),
            "runs_per_tier": run.runs_per_tier, "order": run.run_order,
            "concurrency": run.concurrency, "retry_flex": run.retry_flex,
            "timeouts_s": plan_timeouts(run), "status": run.status, "note": run.note,
            "created_at": run.created_at, "finished_at": run.finished_at,
            "samples": report.done, "planned": report.total,
        },
        "latency": "wall time of the whole call incl. client pacing and retries, in ms",
    }
    if "summary" in parts:
        body["summary"] = [_summary_record(s) for s in report.summaries]
        body["marks"] = {"fastest": report.marks.fastest, "steadiest": report.marks.steadiest,
                         "cheapest": report.marks.cheapest}
        body["recommendation"] = report.recommendation
    if "runs" in parts:
        body["runs"] = [_sample_record(s) for s in ordered_samples(report)]
    return body


def _render_csv(report: TierReport, parts: Sequence[str]) -> str:
    """Raw figures (no units): the summary, a blank line, then the per-run breakdown."""
    blocks = []
    tables = {
        "summary": [_summary_record(s) | {"failures": _failures_text(s)}
                    for s in report.summaries],
        "runs": [_sample_record(s) for s in ordered_samples(report)],
    }
    for part in parts:
        records = tables[part]
        if not records:
            continue
        blocks.append(shared.csv_text(records))
    return "\n".join(blocks)


def _failures_text(s: TierSummary) -> str:
    return " ".join(f"{kind}:{n}" for kind, n in s.failures)


# -- two runs side by side ---------------------------------------------------------------------

COMPARE_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("ok_a", "OK A"),
    ("ok_b", "OK B"),
    ("avg_a", "Avg A"),
    ("avg_b", "Avg B"),
    ("avg_delta", "Δ avg"),
    ("p95_a", "p95 A"),
    ("p95_b", "p95 B"),
    ("spread_a", "Spread A"),
    ("spread_b", "Spread B"),
    ("vs_std_a", "vs std A"),
    ("vs_std_b", "vs std B"),
    ("failovers", "Failovers A/B"),
]


def compare_cells(a: TierReport, b: TierReport) -> list[dict[str, str]]:
    """Run A and run B per tier, side by side, with B's change in average latency."""
    unit = "s" if "s" in (a.unit, b.unit) else "ms"
    sa = {s.tier: s for s in a.summaries}
    sb = {s.tier: s for s in b.summaries}
    rows = []
    for tier in [t for t in TIERS if t in sa or t in sb]:
        x, y = sa.get(tier), sb.get(tier)
        delta = (
            latency_delta(y.avg_ms - x.avg_ms, unit)
            if x and y and x.avg_ms is not None and y.avg_ms is not None
            else "—"
        )
        rows.append({
            "tier": tier,
            "ok_a": f"{x.ok}/{x.asked}" if x else "—",
            "ok_b": f"{y.ok}/{y.asked}" if y else "—",
            "avg_a": latency(x.avg_ms if x else None, unit),
            "avg_b": latency(y.avg_ms if y else None, unit),
            "avg_delta": delta,
            "p95_a": latency(x.p95_ms if x else None, unit),
            "p95_b": latency(y.p95_ms if y else None, unit),
            "spread_a": latency(x.spread_ms if x else None, unit),
            "spread_b": latency(y.spread_ms if y else None, unit),
            "vs_std_a": ratio_text(x.cost_vs_standard, tier) if x else "—",
            "vs_std_b": ratio_text(y.cost_vs_standard, tier) if y else "—",
            "failovers": f"{x.failovers if x else '—'}/{y.failovers if y else '—'}",
        })
    return rows


def render_comparison(a: TierReport, b: TierReport, fmt: str = "table") -> str:
    if fmt == "json":
        return shared.json_text({
            "a": _report_dict(a, ("summary",)), "b": _report_dict(b, ("summary",)),
            "side_by_side": compare_cells(a, b),
        })
    if fmt == "csv":
        rows = compare_cells(a, b)
        return shared.csv_text(rows, [k for k, _ in COMPARE_COLUMNS])
    markdown = fmt == "markdown"
    head = [f"A = {run_title(a.run)}", f"B = {run_title(b.run)}"]
    blocks = ["\n".join(("- " if markdown else "") + h for h in head),
              shared.grid(COMPARE_COLUMNS, compare_cells(a, b), markdown=markdown, left=LEFT)]
    for name, report in (("A", a), ("B", b)):
        if report.recommendation:
            blocks.append("\n".join([f"{name}:", *report.recommendation]))
    return "\n\n".join(blocks) + "\n"
