"""Pricing rules checked against hand-computed figures (rates are USD per 1M tokens)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from console.services.pricing import (
    CallCost,
    PriceTable,
    UnknownModelPrice,
    Usage,
    Workload,
    call_cost,
    compare,
    render_comparison,
    rows_as_dicts,
    storage_cost,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prices"


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.default()


# --- per-call rules -------------------------------------------------------------------


def test_thinking_tokens_bill_as_output(table: PriceTable) -> None:
    # 2.5-flash, 10,000 prompt, 500 out + 300 thoughts:
    # input 10,000 × 0.30/1M = 0.003; output 800 × 2.50/1M = 0.002; total 0.005
    cost = call_cost(
        table,
        "gemini-2.5-flash",
        Usage(prompt_tokens=10_000, output_tokens=500, thought_tokens=300),
    )
    assert cost.cost == approx(0.005)
    assert cost.standard_cost == approx(0.005)
    assert cost.savings == approx(0.0)


def test_cached_tokens_bill_at_cache_read_rate(table: PriceTable) -> None:
    # 2.5-flash, 10,000 prompt of which 4,000 cached, 500 out, 300 thoughts:
    # non-cached 6,000 × 0.30/1M = 0.0018; cached 4,000 × 0.03/1M = 0.00012;
    # output 800 × 2.50/1M = 0.002; total 0.00392.
    # standard (no cache) = 0.005 (as above); savings 0.005 − 0.00392 = 0.00108
    usage = Usage(prompt_tokens=10_000, cached_tokens=4_000, output_tokens=500, thought_tokens=300)
    cost = call_cost(table, "gemini-2.5-flash", usage)
    assert cost == CallCost(
        cost=approx(0.00392), standard_cost=approx(0.005), savings=approx(0.00108)
    )


def test_pre_2_5_models_read_cache_at_25_percent(table: PriceTable) -> None:
    # 2.0-flash, 10,000 prompt of which 8,000 cached, 100 out:
    # non-cached 2,000 × 0.10/1M = 0.0002; cached 8,000 × 0.025/1M = 0.0002;
    # output 100 × 0.40/1M = 0.00004; total 0.00044
    usage = Usage(prompt_tokens=10_000, cached_tokens=8_000, output_tokens=100)
    assert call_cost(table, "gemini-2.0-flash", usage).cost == approx(0.00044)
    assert table.for_model("gemini-2.0-flash").cache_read_rate() == approx(0.025)
    assert table.for_model("gemini-2.5-pro").cache_read_rate() == approx(0.125)


def test_cache_rate_takes_precedence_over_batch_discount(table: PriceTable) -> None:
    # 2.5-flash batched, 10,000 prompt of which 4,000 cached, 500 out, 300 thoughts:
    # non-cached (6,000 × 0.30/1M + 800 × 2.50/1M) × 0.5 = (0.0018 + 0.002) × 0.5 = 0.0019;
    # cached 4,000 × 0.03/1M = 0.00012, NOT halved again; total 0.00202.
    # standard 0.005; savings 0.00298
    usage = Usage(prompt_tokens=10_000, cached_tokens=4_000, output_tokens=500, thought_tokens=300)
    cost = call_cost(table, "gemini-2.5-flash", usage, batch=True)
    assert cost.cost == approx(0.00202)
    assert cost.savings == approx(0.00298)
    # Without a cache the batch halves everything: 0.005 × 0.5 = 0.0025
    plain = Usage(prompt_tokens=10_000, output_tokens=500, thought_tokens=300)
    assert call_cost(table, "gemini-2.5-flash", plain, batch=True).cost == approx(0.0025)


def test_batch_with_a_non_standard_tier_is_rejected(table: PriceTable) -> None:
    with pytest.raises(ValueError, match="batch"):
        call_cost(table, "gemini-2.5-flash", Usage(10), tier="flex", batch=True)


def test_flex_and_priority_multiply_non_cached_tokens_only(table: PriceTable) -> None:
    # 2.5-flash, 10,000 prompt of which 4,000 cached, 500 out, 300 thoughts;
    # non-cached part at standard = 0.0018 + 0.002 = 0.0038; cached part = 0.00012.
    # flex:     0.0038 × 0.5 + 0.00012 = 0.00202
    # priority: 0.0038 × 1.8 + 0.00012 = 0.00684 + 0.00012 = 0.00696; savings 0.005 − 0.00696
    usage = Usage(prompt_tokens=10_000, cached_tokens=4_000, output_tokens=500, thought_tokens=300)
    flex = call_cost(table, "gemini-2.5-flash", usage, tier="flex")
    priority = call_cost(table, "gemini-2.5-flash", usage, tier="SERVICE_TIER_PRIORITY")
    assert flex.cost == approx(0.00202)
    assert priority.cost == approx(0.00696)
    assert priority.savings == approx(-0.00196)
    # Uncached flex halves the whole call: 0.005 × 0.5 = 0.0025
    plain = Usage(prompt_tokens=10_000, output_tokens=500, thought_tokens=300)
    assert call_cost(table, "gemini-2.5-flash", plain, tier="FLEX").cost == approx(0.0025)
    # No tier (None) means standard.
    assert call_cost(table, "gemini-2.5-flash", plain, tier=None).cost == approx(0.005)


def test_unknown_tier_is_an_error(table: PriceTable) -> None:
    with pytest.raises(ValueError, match="unknown service tier 'turbo'"):
        call_cost(table, "gemini-2.5-flash", Usage(10), tier="turbo")


def test_long_context_rates_for_pro(table: PriceTable) -> None:
    # 2.5-pro, 250,000 prompt (> 200K), 1,000 out:
    # input 250,000 × 2.50/1M = 0.625; output 1,000 × 15.00/1M = 0.015; total 0.64
    assert call_cost(
        table, "gemini-2.5-pro", Usage(prompt_tokens=250_000, output_tokens=1_000)
    ).cost == approx(0.64)
    # Exactly 200,000 is not "more than 200K": 200,000 × 1.25/1M + 1,000 × 10/1M = 0.25 + 0.01
    assert call_cost(
        table, "gemini-2.5-pro", Usage(prompt_tokens=200_000, output_tokens=1_000)
    ).cost == approx(0.26)
    # Cached tokens count towards the 200K and read at 10 % of the long rate (0.25):
    # 150,000 × 2.50/1M = 0.375; 100,000 × 0.25/1M = 0.025; output 0.015; total 0.415
    cached = Usage(prompt_tokens=250_000, cached_tokens=100_000, output_tokens=1_000)
    assert call_cost(table, "gemini-2.5-pro", cached).cost == approx(0.415)
    # Flash has no long-context surcharge: 250,000 × 0.30/1M = 0.075
    assert call_cost(table, "gemini-2.5-flash", Usage(prompt_tokens=250_000)).cost == approx(0.075)


def test_images_are_priced_per_image(table: PriceTable) -> None:
    # 2.5-flash-image, 1,000 prompt, 2 images:
    # input 1,000 × 0.30/1M = 0.0003; images 2 × 0.04 = 0.08; total 0.0803
    usage = Usage(prompt_tokens=1_000, images_out=2)
    assert call_cost(table, "gemini-2.5-flash-image", usage).cost == approx(0.0803)
    # Batched: 0.0803 × 0.5 = 0.04015
    assert call_cost(table, "gemini-2.5-flash-image", usage, batch=True).cost == approx(0.04015)
    with pytest.raises(ValueError, match="per-image"):
        call_cost(table, "gemini-2.5-flash", usage)


def test_audio_prompt_tokens_bill_at_audio_rate(table: PriceTable) -> None:
    # 2.5-flash, 5,000 prompt of which 2,000 audio, 100 out:
    # text 3,000 × 0.30/1M = 0.0009; audio 2,000 × 1.00/1M = 0.002;
    # output 100 × 2.50/1M = 0.00025; total 0.00315
    usage = Usage(prompt_tokens=5_000, audio_prompt_tokens=2_000, output_tokens=100)
    assert call_cost(table, "gemini-2.5-flash", usage).cost == approx(0.00315)


def test_usage_rejects_cached_beyond_prompt() -> None:
    with pytest.raises(ValueError, match="must include the cached part"):
        Usage(prompt_tokens=100, cached_tokens=101)
    with pytest.raises(ValueError, match="negative"):
        Usage(prompt_tokens=-1)


def test_usage_from_rest_metadata() -> None:
    metadata = {
        "promptTokenCount": 5_000,
        "cachedContentTokenCount": 1_000,
        "candidatesTokenCount": 2_680,
        "thoughtsTokenCount": 40,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 3_000},
            {"modality": "AUDIO", "tokenCount": 2_000},
        ],
        "candidatesTokensDetails": [
            {"modality": "TEXT", "tokenCount": 100},
            {"modality": "IMAGE", "tokenCount": 2_580},
        ],
    }
    assert Usage.from_metadata(metadata, images_out=2) == Usage(
        prompt_tokens=5_000,
        cached_tokens=1_000,
        output_tokens=100,
        thought_tokens=40,
        images_out=2,
        audio_prompt_tokens=2_000,
    )
    snake = {"prompt_token_count": 10, "candidates_token_count": 3}
    assert Usage.from_metadata(snake) == Usage(prompt_tokens=10, output_tokens=3)


def test_storage_accrues_per_token_hour(table: PriceTable) -> None:
    # Flash: 100,000 tokens × $1.00/1M/h × 2 h = 0.2
    assert storage_cost(table, "gemini-2.5-flash", 100_000, 2) == approx(0.2)
    # A forgotten 1M-token Flash cache for a day: 1 × 1.00 × 24 = 24
    assert storage_cost(table, "gemini-2.5-flash", 1_000_000, 24) == approx(24.0)
    # Pro: 1,000,000 × $4.50/1M/h × 24 h = 108
    assert storage_cost(table, "gemini-2.5-pro", 1_000_000, 24) == approx(108.0)
    # Half an hour of 10,000 tokens on Flash-Lite: 0.01 × 1.00 × 0.5 = 0.005
    assert storage_cost(table, "gemini-2.5-flash-lite", 10_000, 0.5) == approx(0.005)


# --- the table ------------------------------------------------------------------------


def test_toml_override_adds_a_model_without_code_change(table: PriceTable) -> None:
    with pytest.raises(UnknownModelPrice):
        table.for_model("gemini-3.2-flash")
    custom = PriceTable.from_toml(FIXTURES / "override.toml")
    # New model: input 0.40, output 3.00, cache read derived 10 % = 0.04.
    # 10,000 prompt of which 5,000 cached, 1,000 out:
    # 5,000 × 0.40/1M = 0.002; 5,000 × 0.04/1M = 0.0002; 1,000 × 3.00/1M = 0.003; total 0.0052
    usage = Usage(prompt_tokens=10_000, cached_tokens=5_000, output_tokens=1_000)
    assert call_cost(custom, "gemini-3.2-flash", usage).cost == approx(0.0052)
    new = custom.for_model("models/gemini-3.2-flash-preview")
    assert (new.cache_min_tokens, new.cache_storage_per_hour) == (1024, 1.0)
    # Overridden priority multiplier 2.0: 2.5-flash 10,000 prompt → 0.003 × 2.0 = 0.006
    assert call_cost(
        custom, "gemini-2.5-flash", Usage(prompt_tokens=10_000), tier="priority"
    ).cost == approx(0.006)
    # Defaults not mentioned in the file survive the merge.
    assert custom.for_model("gemini-2.5-pro").long_context_input == 2.50
    assert custom.tier_multiplier("flex") == 0.5


def test_mapping_override_rederives_cache_rate_and_rejects_typos(table: PriceTable) -> None:
    custom = PriceTable.from_mapping({"models": {"gemini-2.5-flash": {"input": 0.50}}})
    # cache read follows the new input: 10 % of 0.50 = 0.05; output keeps 2.50
    flash = custom.for_model("gemini-2.5-flash")
    assert flash.cache_read_rate() == approx(0.05)
    assert flash.output == 2.50
    with pytest.raises(ValueError, match="unknown key"):
        PriceTable.from_mapping({"models": {"gemini-2.5-flash": {"inptu": 0.5}}})
    with pytest.raises(ValueError, match="needs input and output"):
        PriceTable.from_mapping({"models": {"gemini-9-flash": {"cache_read": 0.1}}})
    # A new Pro-family model inherits the Pro cache minimum and storage rate.
    pro = PriceTable.from_mapping(
        {"models": {"gemini-4-pro": {"input": 3.0, "output": 20.0}}}
    ).for_model("gemini-4-pro")
    assert (pro.cache_min_tokens, pro.cache_storage_per_hour) == (4096, 4.50)


def test_prefix_match_for_versioned_and_prefixed_names(table: PriceTable) -> None:
    assert table.for_model("models/gemini-2.5-flash-001").name == "gemini-2.5-flash"
    # Longest prefix wins: Flash-Lite and Flash-Image are not plain Flash.
    assert table.for_model("gemini-2.5-flash-lite-preview-06-17").name == "gemini-2.5-flash-lite"
    assert table.for_model("models/gemini-2.5-flash-image-preview").name == (
        "gemini-2.5-flash-image"
    )
    assert table.for_model("Gemini-2.5-Pro@001").name == "gemini-2.5-pro"
    assert table.for_model("gemini-3.1-pro-preview").name == "gemini-3.1-pro"


def test_unknown_model_is_a_clear_error(table: PriceTable) -> None:
    with pytest.raises(UnknownModelPrice, match="no price for model 'claude-3'") as caught:
        table.for_model("claude-3")
    assert isinstance(caught.value, LookupError)
    assert "gemini-2.5-flash" in caught.value.known
    # A prefix must end at a name-part boundary.
    with pytest.raises(UnknownModelPrice):
        table.for_model("gemini-2.5-flashy")


# --- what-if comparison ---------------------------------------------------------------


def test_compare_concrete_workload_every_scenario() -> None:
    table = PriceTable.default()
    workload = Workload.from_toml(FIXTURES / "workload.toml")
    assert workload == Workload(
        model="gemini-2.5-flash",
        requests=100,
        input_tokens=2_000,
        output_tokens=500,
        shared_context_tokens=50_000,
        queries_per_context=10,
        cache_hours=1.0,
    )
    rows = {row.name: row for row in compare(table, workload)}
    # No cache, per request: (50,000 + 2,000) × 0.30/1M = 0.0156; 500 × 2.50/1M = 0.00125;
    # = 0.01685; × 100 requests = 1.685
    assert rows["standard"].total == approx(1.685)
    assert rows["flex"].total == approx(0.8425)  # 1.685 × 0.5
    assert rows["priority"].total == approx(3.033)  # 1.685 × 1.8
    assert rows["batch"].total == approx(0.8425)  # 1.685 × 0.5
    # Explicit cache: ceil(100 / 10) = 10 caches × 50,000 tokens × 1.00/1M × 1 h = 0.5 storage;
    # per request 2,000 × 0.30/1M + 50,000 × 0.03/1M + 0.00125 = 0.0006 + 0.0015 + 0.00125
    # = 0.00335; × 100 = 0.335; total 0.835
    assert rows["explicit cache"].total == approx(0.835)
    # Cache + batch: per request (0.0006 + 0.00125) × 0.5 + 0.0015 = 0.002425; × 100 = 0.2425;
    # + 0.5 storage = 0.7425
    assert rows["cache + batch"].total == approx(0.7425)
    # Savings vs standard: flex 50 %; priority −80 %; cache (1.685 − 0.835) / 1.685 = 50.445 %;
    # cache + batch (1.685 − 0.7425) / 1.685 = 55.935 %
    assert rows["flex"].savings_vs_standard_pct == pytest.approx(50.0)
    assert rows["priority"].savings_vs_standard_pct == pytest.approx(-80.0)
    assert rows["explicit cache"].savings_vs_standard_pct == pytest.approx(0.85 / 1.685 * 100)
    assert rows["cache + batch"].savings_vs_standard_pct == pytest.approx(0.9425 / 1.685 * 100)
    assert [name for name, row in rows.items() if row.cheapest] == ["cache + batch"]
    assert all(row.possible for row in rows.values())
    assert "10 caches" in rows["explicit cache"].notes


def test_compare_long_cache_storage_loses_to_flex() -> None:
    # Same workload kept cached for 24 h: storage 10 × 0.05 × 24 = 12;
    # cache = 0.335 + 12 = 12.335; cache + batch = 0.2425 + 12 = 12.2425.
    # Flex and batch tie at 0.8425; the earlier row (flex) is the one marked cheapest.
    workload = replace(Workload.from_toml(FIXTURES / "workload.toml"), cache_hours=24.0)
    rows = {row.name: row for row in compare(PriceTable.default(), workload)}
    assert rows["explicit cache"].total == approx(12.335)
    assert rows["cache + batch"].total == approx(12.2425)
    assert [name for name, row in rows.items() if row.cheapest] == ["flex"]


def test_compare_shared_context_below_cache_minimum() -> None:
    # Flash minimum is 1,024; 800 shared tokens cannot be cached.
    # No cache, per request: 2,800 × 0.30/1M = 0.00084 + 0.00125 = 0.00209; × 100 = 0.209;
    # flex = batch = 0.1045 (flex first). Cache + batch would be 0.0949 + 0.008 = 0.1029,
    # cheaper on paper, but it is not possible so it must not be marked cheapest.
    workload = replace(Workload.from_toml(FIXTURES / "workload.toml"), shared_context_tokens=800)
    rows = {row.name: row for row in compare(PriceTable.default(), workload)}
    assert rows["standard"].total == approx(0.209)
    assert rows["cache + batch"].total == approx(0.1029)
    for name in ("explicit cache", "cache + batch"):
        assert not rows[name].possible
        assert "not possible" in rows[name].notes
        assert "below" in rows[name].notes and "1,024" in rows[name].notes
    assert [name for name, row in rows.items() if row.cheapest] == ["flex"]
    # Pro's minimum is 4,096: 3,000 shared tokens are below it too.
    pro = replace(workload, model="gemini-2.5-pro", shared_context_tokens=3_000)
    pro_rows = {row.name: row for row in compare(PriceTable.default(), pro)}
    assert not pro_rows["explicit cache"].possible
    assert "4,096" in pro_rows["explicit cache"].notes


def test_workload_validation() -> None:
    with pytest.raises(ValueError, match="queries_per_context"):
        Workload(
            "gemini-2.5-flash", requests=1, input_tokens=1, output_tokens=1, queries_per_context=0
        )
    with pytest.raises(ValueError, match="unknown workload key"):
        Workload.from_mapping({"model": "gemini-2.5-flash", "requets": 1})
    with pytest.raises(ValueError, match="incomplete workload"):
        Workload.from_mapping({"model": "gemini-2.5-flash"})


def test_render_comparison_and_json_rows() -> None:
    rows = compare(PriceTable.default(), Workload.from_toml(FIXTURES / "workload.toml"))
    text = render_comparison(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["scenario", "total", "$", "savings", "%", "note"]
    assert len(lines) == 7
    assert text.count("← cheapest") == 1
    assert "← cheapest" in next(line for line in lines if line.startswith("cache + batch"))
    # Fixed width: every total is right-aligned under "total $", every % under "savings %".
    total_end = lines[0].index("total $") + len("total $")
    savings_end = lines[0].index("savings %") + len("savings %")
    for line in lines[1:]:
        assert line[total_end - 5 : total_end] in {".6850", ".8425", ".0330", ".8350", ".7425"}
        assert line[savings_end - 1] == "%"
    assert "1.6850" in text and "-80.0%" in text

    dicts = rows_as_dicts(rows)
    json.dumps(dicts)
    assert [d["name"] for d in dicts if d["cheapest"]] == ["cache + batch"]
    assert dicts[0] == {
        "name": "standard",
        "total": 1.685,
        "savings_vs_standard_pct": 0.0,
        "notes": "baseline",
        "cheapest": False,
        "possible": True,
    }


def test_pricing_imports_no_ui_or_sdk() -> None:
    code = (
        "import sys, console.services.pricing; "
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'google.genai'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
