"""Tier statistics, marks and the recommendation, against figures computed by hand."""

from __future__ import annotations

import csv
import io
import json

import pytest

from console.services.tiers import (
    PlanError,
    TierPlan,
    build_report,
    compare_cells,
    parse_tiers,
    percentile,
    read_prompt_file,
    recommend,
    render,
    sample_cells,
    summarise,
    summary_cells,
)
from store.records import TierRun, TierSample

TIMEOUTS = {"flex": 900.0, "standard": 60.0, "priority": 60.0}


def run_record(**overrides) -> TierRun:
    values = dict(
        id=7, created_at=1_790_000_000.0, finished_at=1_790_000_100.0, model="gemini-2.5-flash",
        prompt="Explain service tiers.", tiers="flex,standard,priority", runs_per_tier=5,
        run_order="interleaved", concurrency=1, retry_flex=False, status="finished",
        timeouts=json.dumps(TIMEOUTS), note=None,
    )
    return TierRun(**(values | overrides))


_ids = iter(range(1, 10_000))


def ok(tier: str, seq: int, ms: float, *, out: int = 100, served: str | None = None,
       cost: float = 0.001, standard: float = 0.001) -> TierSample:
    return TierSample(
        id=next(_ids), run_id=7, tier_asked=tier, seq=seq, ok=True, status=200,
        tier_served=served or tier, latency_ms=ms, prompt_tokens=10, output_tokens=out,
        thought_tokens=50, total_tokens=10 + out + 50, cost=cost, error=None,
        at=1_790_000_000.0 + seq, cached_tokens=0, standard_cost=standard, attempts=1,
        api_latency_ms=ms - 5,
    )


def failed(tier: str, seq: int, ms: float, status: int = 503,
           error: str = "503 shed: The model is overloaded.") -> TierSample:
    return TierSample(
        id=next(_ids), run_id=7, tier_asked=tier, seq=seq, ok=False, status=status,
        tier_served=None, latency_ms=ms, prompt_tokens=0, output_tokens=0, thought_tokens=0,
        total_tokens=0, cost=0.0, error=error, at=1_790_000_000.0 + seq, cached_tokens=0,
        standard_cost=0.0, attempts=1, api_latency_ms=None,
    )


def published_like() -> list[TierSample]:
    """Five runs per tier: flex shed once; two priority calls downgraded to standard."""
    flex = [ok("flex", 1, 2000, out=100, cost=0.0005), failed("flex", 2, 50),
            ok("flex", 3, 2500, out=120, cost=0.0005), ok("flex", 4, 4500, out=80, cost=0.0005),
            ok("flex", 5, 3000, out=100, cost=0.0005)]
    standard = [ok("standard", i, ms) for i, ms in enumerate([2000, 2200, 2600, 2400, 2800], 1)]
    priority = [ok("priority", 1, 1900, cost=0.0018), ok("priority", 2, 2000, cost=0.0018),
                ok("priority", 3, 2100, cost=0.0018),
                ok("priority", 4, 2000, served="standard"), ok("priority", 5, 2000,
                                                               served="standard")]
    return flex + standard + priority


# -- percentiles ----------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    five = [5000, 1000, 3000, 2000, 4000]
    assert percentile(five, 0.5) == 3000
    # rank 0.95 × 4 = 3.8: 4000 + 0.8 × 1000
    assert percentile(five, 0.95) == pytest.approx(4800)
    assert percentile([10, 20], 0.95) == pytest.approx(19.5)
    assert percentile([42], 0.95) == 42
    with pytest.raises(ValueError):
        percentile([], 0.5)


# -- the summary ----------------------------------------------------------------------------


def test_summary_figures_by_hand():
    flex, standard, priority = summarise(published_like(), ["flex", "standard", "priority"])

    assert (flex.asked, flex.ok, flex.shed, flex.failures) == (5, 4, 1, (("503", 1),))
    # The 503 came back in 50 ms: it must not flatter flex's latency.
    assert flex.avg_ms == 3000 and flex.min_ms == 2000 and flex.max_ms == 4500
    assert flex.p50_ms == 2750  # (2500 + 3000) / 2
    assert flex.p95_ms == pytest.approx(4275)  # rank 2.85: 3000 + 0.85 × 1500
    assert flex.spread_ms == 2500
    assert flex.avg_output_tokens == 100  # (100 + 120 + 80 + 100) / 4
    assert flex.cost_vs_standard == pytest.approx(-0.5)
    assert flex.cost_per_call == pytest.approx(0.0005)

    assert standard.avg_ms == 2400 and standard.p50_ms == 2400
    assert standard.p95_ms == pytest.approx(2760)  # rank 3.8: 2600 + 0.8 × 200
    assert standard.spread_ms == 800
    assert standard.cost_vs_standard == pytest.approx(0.0)

    assert priority.avg_ms == 2000 and priority.spread_ms == 200
    assert priority.p95_ms == pytest.approx(2080)
    # Failovers: served tier differing from the one asked.
    assert priority.failovers == 2 and priority.served_instead == ("standard",)
    # 3 calls at 1.8× and 2 billed as standard: (3 × 0.0018 + 2 × 0.001) / 0.005 − 1.
    assert priority.cost_vs_standard == pytest.approx(0.48)


def test_fastest_steadiest_and_cheapest_are_marked():
    report = build_report(run_record(), published_like())
    assert (report.marks.fastest, report.marks.steadiest, report.marks.cheapest) == (
        "priority", "priority", "flex"
    )
    assert report.marks.cells() == {("priority", "avg"), ("priority", "spread"),
                                    ("flex", "vs_std")}


def test_summary_cells_read_as_published():
    rows = {r["tier"]: r for r in summary_cells(build_report(run_record(), published_like()))}
    assert (rows["flex"]["ok"], rows["flex"]["avg"], rows["flex"]["min"], rows["flex"]["max"],
            rows["flex"]["p50"], rows["flex"]["spread"], rows["flex"]["avg_out"],
            rows["flex"]["vs_std"], rows["flex"]["errors"]) == (
        "4/5", "3.00 s", "2.00 s", "4.50 s", "2.75 s", "2.50 s", "100", "-50 %", "1×503")
    assert rows["standard"]["vs_std"] == "baseline"
    assert rows["standard"]["p95"] == "2.76 s"
    assert (rows["priority"]["vs_std"], rows["priority"]["failovers"]) == ("+48 %", "2")


def test_one_sample_has_no_spread_and_is_never_steadiest():
    samples = [ok("standard", 1, 900), ok("standard", 2, 1100), ok("priority", 1, 500)]
    report = build_report(run_record(tiers="standard,priority"), samples)
    standard, priority = report.summaries
    assert standard.spread_ms == 200 and priority.spread_ms is None
    assert report.marks.steadiest is None and report.marks.fastest == "priority"


def test_unit_is_ms_when_every_call_is_under_a_second():
    report = build_report(run_record(tiers="standard"), [ok("standard", 1, 42.4)])
    assert report.unit == "ms"
    assert sample_cells(report.samples[0], report.unit)["latency"] == "42 ms"


# -- the recommendation ---------------------------------------------------------------------


def test_recommendation_line_from_the_data():
    report = build_report(run_record(), published_like())
    assert report.recommendation == [
        "flex: 50 % cheaper, +0.60 s avg, 1/5 shed — fine for background work, "
        "with 503 retries (--retry-flex)",
        "priority: 48 % dearer, -0.40 s avg, 2/5 downgraded to standard — worth it for "
        "latency-sensitive calls: faster and steadier",
    ]


def test_recommendation_when_flex_shed_was_retried():
    summaries = summarise(published_like(), ["flex", "standard", "priority"])
    flex_line = recommend(summaries, unit="s", retry_flex=True)[0]
    assert flex_line == ("flex: 50 % cheaper, +0.60 s avg, 1/5 shed — "
                         "fine for background work, not for someone waiting")


def test_retried_flex_calls_count_their_extra_attempts():
    import dataclasses

    retried = dataclasses.replace(ok("flex", 1, 3000, cost=0.0005), attempts=3)
    samples = [retried, ok("standard", 1, 2000)]
    [flex, _] = summarise(samples, ["flex", "standard"])
    assert (flex.ok, flex.shed, flex.retries) == (1, 0, 2)
    assert recommend([flex, _], unit="s", retry_flex=True) == [
        "flex: 50 % cheaper, +1.00 s avg, 0/1 shed, 2 retries — fine for background work, "
        "not for someone waiting"
    ]


def test_recommendation_when_flex_is_unusable_or_sheds_too_often():
    standard = [ok("standard", i, 1000) for i in (1, 2)]
    all_shed = [failed("flex", i, 20) for i in (1, 2, 3)]
    lines = recommend(summarise(all_shed + standard, ["flex", "standard"]))
    assert lines == ["flex: 3/3 shed — unusable right now: every call failed; use standard, "
                     "or the Batch API"]
    mostly = [failed("flex", 1, 20), failed("flex", 2, 20), ok("flex", 3, 1000, cost=0.0005)]
    line = recommend(summarise(mostly + standard, ["flex", "standard"]))[0]
    assert line.endswith("2/3 shed — sheds too often right now; send background work to the "
                         "Batch API")


def test_recommendation_when_priority_buys_nothing_or_is_over_its_limit():
    standard = [ok("standard", i, ms) for i, ms in enumerate([1000, 1010, 990], 1)]
    same = [ok("priority", i, ms, cost=0.0018) for i, ms in enumerate([1000, 1005, 995], 1)]
    line = recommend(summarise(standard + same, ["standard", "priority"]), unit="s")[0]
    # 5 ms faster is inside the noise (5 % of 1 s); spread 10 ms vs 20 ms is steadier.
    assert line.startswith("priority: 80 % dearer, +0.00 s avg — steadier (spread 0.01 s vs "
                           "0.02 s) but not faster")
    downgraded = [ok("priority", i, 1000, served="standard") for i in (1, 2, 3)]
    line = recommend(summarise(standard + downgraded, ["standard", "priority"]))[0]
    assert line == ("priority: same price, +0.00 s avg, 3/3 downgraded to standard — over its "
                    "limit: most calls ran (and were billed) as standard")
    wobbly = [ok("priority", i, ms, cost=0.0018) for i, ms in enumerate([900, 1300, 950], 1)]
    line = recommend(summarise(standard + wobbly, ["standard", "priority"]), unit="s")[0]
    assert line.endswith("not worth the premium here: no faster or steadier than standard")


def test_recommendation_without_standard_in_the_run():
    samples = [ok("priority", 1, 800, cost=0.0018), ok("priority", 2, 900, cost=0.0018)]
    assert recommend(summarise(samples, ["priority"]), unit="ms") == [
        "priority: 80 % dearer, 850 ms avg (no standard runs to compare) — "
        "run standard beside it to judge the premium"
    ]
    only_standard = recommend(summarise([ok("standard", 1, 700)], ["standard"]), unit="ms")
    assert only_standard == ["standard: 1/1 ok, 700 ms avg — add flex or priority to the run "
                             "to compare"]


# -- the plan -------------------------------------------------------------------------------


def test_interleaved_rotates_which_tier_goes_first_grouped_does_not():
    plan = TierPlan("gemini-2.5-flash", "hi", runs_per_tier=2, timeouts=TIMEOUTS)
    assert plan.schedule() == [("flex", 1), ("standard", 1), ("priority", 1),
                               ("standard", 2), ("priority", 2), ("flex", 2)]
    grouped = TierPlan("gemini-2.5-flash", "hi", runs_per_tier=2, order="grouped",
                       timeouts=TIMEOUTS)
    assert grouped.schedule() == [("flex", 1), ("flex", 2), ("standard", 1), ("standard", 2),
                                  ("priority", 1), ("priority", 2)]


def test_retries_only_for_flex_and_only_when_asked():
    plan = TierPlan("m", "hi", retry_flex=True, timeouts=TIMEOUTS)
    assert plan.retry_for("flex").attempts == 4 and plan.retry_for("flex").deadline_s == 900
    assert plan.retry_for("standard").attempts == 1
    assert TierPlan("m", "hi", timeouts=TIMEOUTS).retry_for("flex").attempts == 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"prompt": "   "}, "the prompt is empty"),
    ({"model": ""}, "give a model"),
    ({"runs_per_tier": 0}, "runs per tier must be 1–1000 (got 0)"),
    ({"concurrency": 0}, "concurrency must be 1–64 (got 0)"),
    ({"order": "random"}, "order must be interleaved or grouped"),
    ({"tiers": "flex,turbo"}, "unknown tier(s) turbo; choose from flex, standard, priority"),
    ({"tiers": ""}, "choose at least one tier"),
    ({"timeouts": TIMEOUTS | {"flex": -1}}, "the flex timeout must be a positive number"),
])
def test_bad_plans_are_refused_with_a_clear_message(overrides, message):
    values = {"model": "gemini-2.5-flash", "prompt": "hi", "timeouts": TIMEOUTS} | overrides
    with pytest.raises(PlanError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        TierPlan(**values)


def test_tiers_parse_case_and_prefix_into_canonical_order():
    assert parse_tiers("Priority, SERVICE_TIER_FLEX") == ("flex", "priority")
    assert parse_tiers("all") == ("flex", "standard", "priority")


def test_plan_from_settings_takes_defaults_and_a_prompt_file(settings, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Summarise the handbook.\n", encoding="utf-8")
    plan = TierPlan.from_settings(settings, prompt_file=prompt, timeouts={"standard": 30,
                                                                          "flex": None})
    assert plan.model == settings.gemini.default_model
    assert plan.prompt == "Summarise the handbook.\n"
    assert plan.timeouts == {"flex": settings.gemini.flex_timeout_s, "standard": 30.0,
                             "priority": settings.gemini.timeout_s}
    with pytest.raises(PlanError, match="not both"):
        TierPlan.from_settings(settings, prompt="x", prompt_file=prompt)


def test_prompt_files_that_cannot_be_used(tmp_path):
    with pytest.raises(PlanError, match="does not exist"):
        read_prompt_file(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(PlanError, match="is empty"):
        read_prompt_file(tmp_path / "empty.txt")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PlanError, match="not UTF-8"):
        read_prompt_file(tmp_path / "bin")


# -- rendering ------------------------------------------------------------------------------


def test_markdown_bolds_the_marked_cells_and_lists_the_recommendation():
    text = render(build_report(run_record(), published_like()), "markdown")
    assert "| Tier | OK | Avg | Min | Max | p50 | p95 | Spread |" in text
    assert "| priority | 5/5 | **2.00 s** | 1.90 s | 2.10 s | 2.00 s | 2.08 s | **0.20 s** |" in text
    assert "| **-50 %** |" in text
    assert "| flex | 2 | ✗ 503 | 0.05 s | — | — |" in text
    assert "- flex: 50 % cheaper, +0.60 s avg, 1/5 shed" in text


def test_table_marks_cells_and_only_prints_the_part_asked():
    report = build_report(run_record(), published_like())
    text = render(report, "table")
    assert "2.00 s *" in text and "* fastest (avg): priority" in text
    assert "Latency (wall)" in text
    summary_only = render(report, "table", only="summary")
    assert "Served" not in summary_only and "Recommendation:" in summary_only
    runs_only = render(report, "table", only="runs")
    assert "Spread" not in runs_only and "Served" in runs_only


def test_csv_and_json_carry_raw_figures():
    report = build_report(run_record(), published_like())
    summary_block, runs_block = render(report, "csv").split("\n\n")
    summary = list(csv.DictReader(io.StringIO(summary_block)))
    assert [r["tier"] for r in summary] == ["flex", "standard", "priority"]
    assert summary[0]["p95_ms"] == "4275.0" and summary[0]["failures"] == "503:1"
    runs = list(csv.DictReader(io.StringIO(runs_block)))
    assert len(runs) == 15 and runs[1]["status"] == "503" and runs[1]["ok"] == "False"
    body = json.loads(render(report, "json"))
    assert body["marks"] == {"fastest": "priority", "steadiest": "priority", "cheapest": "flex"}
    assert body["summary"][2]["cost_vs_standard"] == 0.48
    assert body["runs"][0]["latency_ms"] == 2000 and body["run"]["timeouts_s"] == TIMEOUTS


def test_two_runs_side_by_side():
    before = build_report(run_record(id=1), published_like())
    faster = [ok(s.tier_asked, s.seq, s.latency_ms - 100) if s.ok else s
              for s in published_like()]
    after = build_report(run_record(id=2), faster)
    rows = {r["tier"]: r for r in compare_cells(before, after)}
    assert rows["standard"]["avg_a"] == "2.40 s" and rows["standard"]["avg_b"] == "2.30 s"
    assert rows["standard"]["avg_delta"] == "-0.10 s"
    assert rows["flex"]["ok_a"] == "4/5" and rows["priority"]["failovers"] == "2/0"
