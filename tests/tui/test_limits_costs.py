"""The limits and costs panes over ledger data: gauges, error counts, spend, the what-if form."""

from __future__ import annotations

import pytest

from store.repos import ledger
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle


def seed_ledger(workspace) -> None:
    """A day of calls at fixed times before the frozen now: deterministic panes."""
    rows = []
    for i in range(40):  # 40 standard calls in the last minute-ish and hour
        rows.append(dict(at=FROZEN_NOW - 50 + i, model="gemini-2.5-flash", operation="generate",
                         tier_asked="standard", tier_served="standard", prompt_tokens=1200,
                         candidate_tokens=300, status=200, cost=0.00111, standard_cost=0.00111))
    for i in range(6):  # priority, two downgraded; one 429
        served = "standard" if i < 2 else "priority"
        rows.append(dict(at=FROZEN_NOW - 900 - i * 60, model="gemini-2.5-pro",
                         operation="generate", tier_asked="priority", tier_served=served,
                         prompt_tokens=5000, candidate_tokens=800, status=200,
                         cost=0.03, standard_cost=0.02))
    rows.append(dict(at=FROZEN_NOW - 1200, model="gemini-2.5-pro", operation="generate",
                     tier_asked="priority", status=429, error="429 RESOURCE_EXHAUSTED"))
    for i in range(5):  # flex with two 503s
        rows.append(dict(at=FROZEN_NOW - 3000 - i, model="gemini-2.5-flash", operation="generate",
                         tier_asked="flex", tier_served="flex" if i > 1 else None,
                         status=200 if i > 1 else 503, prompt_tokens=800, candidate_tokens=200,
                         cost=0.0002, standard_cost=0.0004))
    rows.append(dict(at=FROZEN_NOW - 2 * 86_400, model="gemini-2.5-flash",
                     operation="batch_result", tier_asked="batch", tier_served="batch",
                     batch=True, prompt_tokens=2000, candidate_tokens=500, status=200,
                     cost=0.000925, standard_cost=0.00185))
    template = {"tier_served": None, "prompt_tokens": 0, "candidate_tokens": 0, "cost": 0.0,
                "standard_cost": 0.0, "error": None, "batch": False}
    with workspace.session() as session:
        ledger.insert_many(session, [template | r for r in rows])


async def test_limits_pane_shows_usage_against_limits(offline_app, workspace):
    seed_ledger(workspace)
    async with offline_app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = pilot.app.screen.query_one("#limits")
        rows = {key.value: table.get_row(key) for key in table.rows}
        flash = rows["gemini-2.5-flash/standard"]
        assert "40/1000" in str(flash[2])  # RPM in the last minute vs the configured limit
        assert "48K/8.0M" in str(flash[5])
        pro = rows["gemini-2.5-pro/priority"]
        assert "0/2000" in str(pro[2])  # priority draws on Pro's whole budget; none this minute
        assert str(pro[3]) == "1"  # one 429 in the last hour
        flex = rows["gemini-2.5-flash/flex"]
        assert str(flex[4]) == "2"  # two 503s in the last hour
        spark = pilot.app.screen.query_one("#per-minute")
        assert sum(spark.data) == 5  # the first row, flash/flex: five calls this hour
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert sum(spark.data) == 40 and max(spark.data) == 40  # flash/standard, one minute


async def test_costs_pane_groups_and_whatif(offline_app, workspace):
    seed_ledger(workspace)
    async with offline_app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        spend = pilot.app.screen.query_one("#spend")
        assert {k.value for k in spend.rows} == {"gemini-2.5-flash", "gemini-2.5-pro"}
        await pilot.press("g")
        await settle(pilot)
        assert {k.value for k in spend.rows} == {"standard", "priority", "flex", "batch"}
        await pilot.press("g")
        await settle(pilot)
        assert {k.value for k in spend.rows} == {"online", "batch"}
        scenarios = pilot.app.screen.query_one("#scenarios")
        names = [str(scenarios.get_row_at(i)[0]) for i in range(scenarios.row_count)]
        assert names[0].strip() == "standard" and len(names) == 6
        assert sum(n.startswith("★") for n in names) == 1
        # A shared context below Flash's 1,024-token minimum makes the cache rows impossible.
        pilot.app.screen.query_one("#whatif-shared_context_tokens").value = "500"
        await pilot.click("#compare")
        await pilot.pause()
        cache_row = scenarios.get_row("explicit cache")
        assert cache_row[1] == "—"
        assert "1,024" in str(cache_row[3]) or "1024" in str(cache_row[3])


@pytest.mark.parametrize("pane", ["5", "6"])
def test_limits_and_costs_snapshots(pane, offline_app, workspace, snap_compare):
    seed_ledger(workspace)

    async def before(pilot):
        await settle(pilot)
        await pilot.press(pane)
        await settle(pilot)

    assert snap_compare(offline_app, run_before=before, terminal_size=(140, 40))
