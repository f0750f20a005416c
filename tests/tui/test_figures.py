"""Figures a newcomer reads: extra spend said as such, and no blank model in spend or limits."""

from __future__ import annotations

from console.services.spend import spend_today_and_week
from console.services.usage import limit_usage
from console.tui.formatting import saving
from store.repos import ledger
from store.repos.ledger import NO_MODEL
from tests.conftest import FROZEN_NOW


def test_a_negative_saving_is_extra_spend():
    assert saving(0.0012) == "$0.0012"
    assert saving(-0.0007) == "extra $0.0007"
    assert saving(-0.00001) == "$0.0000"  # rounds to nothing: no "extra $0.0000"


def test_operations_without_a_model_are_grouped_in_spend_and_left_out_of_limits(workspace):
    row = dict(tier_served=None, prompt_tokens=0, candidate_tokens=0, status=200, cost=0.0,
               standard_cost=0.0, error=None, batch=False, tier_asked="standard")
    with workspace.session() as session:
        ledger.insert_many(session, [
            row | dict(at=FROZEN_NOW - 10, model="", operation="upload_file"),
            row | dict(at=FROZEN_NOW - 5, model="gemini-2.5-flash", operation="generate",
                       tier_served="priority", tier_asked="priority", cost=0.0015,
                       standard_cost=0.0008),
        ])
    today, _week = spend_today_and_week(workspace)
    assert {r.group for r in today} == {NO_MODEL, "gemini-2.5-flash"}
    flash = next(r for r in today if r.group == "gemini-2.5-flash")
    assert saving(flash.savings) == "extra $0.0007"
    assert {(u.model, u.tier) for u in limit_usage(workspace)} == {("gemini-2.5-flash",
                                                                    "priority")}
