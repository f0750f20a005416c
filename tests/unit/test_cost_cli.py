"""`gemops cost`: the what-if table from flags or a workload file, and spend from the ledger."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from console.cli import main, parse_since
from store.engine import Store
from store.repos import ledger


def test_whatif_marks_the_cheapest_and_explains_impossible_caches():
    result = CliRunner().invoke(main, [
        "cost", "--requests", "1000", "--input-tokens", "500", "--output-tokens", "300",
        "--shared-context-tokens", "500", "--json",
    ])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == {"standard", "flex", "priority", "batch", "explicit cache",
                         "cache + batch"}
    assert [n for n, r in rows.items() if r["cheapest"]] == ["flex"]  # ties go to the first
    assert rows["explicit cache"]["possible"] is False
    # Standard by hand: 1000 x (1000 x 0.30 + 300 x 2.50) / 1M = 1.05
    assert rows["standard"]["total"] == 1.05


def test_whatif_needs_a_workload():
    result = CliRunner().invoke(main, ["cost", "--requests", "10"])
    assert result.exit_code == 2
    assert "--input-tokens" in result.output


def test_ledger_spend_by_tier(tmp_path, monkeypatch):
    db = tmp_path / "g.sqlite3"
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(db))
    store = Store.open(db)
    now = time.time()
    base = {"model": "gemini-2.5-flash", "operation": "generate", "tier_served": None,
            "prompt_tokens": 100, "candidate_tokens": 10, "error": None, "batch": False}
    with store.session() as s:
        ledger.insert_many(s, [
            base | {"at": now - 60, "tier_asked": "flex", "status": 200, "cost": 0.5,
                    "standard_cost": 1.0},
            base | {"at": now - 120, "tier_asked": "standard", "status": 200, "cost": 1.0,
                    "standard_cost": 1.0},
            base | {"at": now - 30 * 86_400, "tier_asked": "standard", "status": 200,
                    "cost": 9.0, "standard_cost": 9.0},
        ])
    store.close()
    result = CliRunner().invoke(main, ["cost", "--ledger", "--by", "tier", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["group"]: r for r in json.loads(result.output)}
    assert rows == {
        "flex": {"group": "flex", "calls": 1, "errors": 0, "prompt_tokens": 100,
                 "cached_tokens": 0, "output_tokens": 10, "cost": 0.5, "standard_cost": 1.0,
                 "savings": 0.5},
        "standard": {"group": "standard", "calls": 1, "errors": 0, "prompt_tokens": 100,
                     "cached_tokens": 0, "output_tokens": 10, "cost": 1.0,
                     "standard_cost": 1.0, "savings": 0.0},
    }
    text = CliRunner().invoke(main, ["cost", "--ledger", "--since", "60d"]).output
    assert "total" in text and "10.500000" in text


def test_parse_since():
    assert parse_since("7d", 1_000_000.0) == 1_000_000.0 - 7 * 86_400
    assert parse_since("2026-01-02", 0) == 1767312000.0


def test_ledger_table_says_extra_spend_instead_of_a_negative_saving(tmp_path, monkeypatch):
    db = tmp_path / "g.sqlite3"
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(db))
    store = Store.open(db)
    with store.session() as s:
        ledger.insert_many(s, [{
            "model": "gemini-2.5-flash", "operation": "generate", "tier_asked": "priority",
            "tier_served": "priority", "prompt_tokens": 100, "candidate_tokens": 10,
            "error": None, "batch": False, "at": time.time() - 60, "status": 200,
            "cost": 0.0018, "standard_cost": 0.001}])
    store.close()
    text = CliRunner().invoke(main, ["cost", "--ledger", "--by", "tier"]).output
    priority = next(line for line in text.splitlines() if line.startswith("priority"))
    assert priority.endswith("extra $0.0008")
    assert "-0.0008" not in text
