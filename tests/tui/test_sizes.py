"""Every pane at 80×24 and at 160×48, over a store with something in every area: the footer
keeps `?` and `q`, forms keep visible inputs, and no state or cost column is cut."""

from __future__ import annotations

import pytest

from store.repos import ledger
from tests.conftest import FROZEN_NOW
from tests.tui import test_batches, test_caches, test_limits_costs, test_tiers
from tests.tui.conftest import settle
from tests.unit.test_export import seed_interactions

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
PANES = {"overview": "1", "caches": "2", "batches": "3", "tiers": "4", "limits": "5",
         "costs": "6", "logs": "7", "help": "question_mark"}


def seed_everything(workspace) -> None:
    test_caches.seed(workspace)
    test_batches.seed(workspace)
    test_limits_costs.seed_ledger(workspace)
    test_tiers.seed_run(workspace, started=FROZEN_NOW - 3600)
    seed_interactions(workspace)
    with workspace.session() as session:
        # A file upload: an operation with no model, booked at no cost.
        ledger.insert_many(session, [dict(
            at=FROZEN_NOW - 100, model="", operation="upload_file", tier_asked="standard",
            tier_served=None, prompt_tokens=0, candidate_tokens=0, status=200, cost=0.0,
            standard_cost=0.0, error=None, batch=False)])


@pytest.fixture
def seeded(workspace, offline_app):
    seed_everything(workspace)
    return offline_app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", PANES)
def test_every_pane_at_both_sizes(pane, size, seeded, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press(PANES[pane])
        await settle(pilot)

    assert snap_compare(seeded, run_before=before, terminal_size=SIZES[size])


@pytest.mark.parametrize("pane", [p for p in PANES if p != "help"])
async def test_the_footer_keeps_help_and_quit_at_80_columns(pane, seeded):
    async with seeded.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(PANES[pane])
        await settle(pilot)
        footer = pilot.app.screen.query_one("KeysFooter")
        shown = [key for key in footer.query("FooterKey")
                 if key.region.right <= footer.region.right and key.region.width > 0]
        assert {"question_mark", "q"} <= {key.key for key in shown}


async def test_state_columns_are_not_cut_when_a_job_moves_on(seeded, workspace):
    async with seeded.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        with workspace.session() as session:
            from store.repos import batches

            batches.mirror_remote(session, [test_batches.job(
                "batches/nightly02", "JOB_STATE_CANCELLED", display_name="nightly eval",
                ended_at=FROZEN_NOW)], now=FROZEN_NOW, complete=False)
        pilot.app.screen.refresh_data()
        await settle(pilot)
        table = pilot.app.screen.query_one("#batches")
        state = table.columns["state"]
        assert state.get_render_width(table) - 2 * table.cell_padding >= len("PENDING  ⚠ stuck")
        assert str(table.get_row("batches/nightly02")[1]) == "CANCELLED"
