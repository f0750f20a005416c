"""The console shell: every pane by number key and palette, help, empty states from the store."""

from __future__ import annotations

import pytest

from console.tui.app import GemopsApp
from tests.tui.conftest import settle

PANE_TITLES = [title for _, title in GemopsApp.PANES]


async def test_every_pane_is_reachable_by_number_key(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for number, (mode, title) in enumerate(GemopsApp.PANES, start=1):
            await pilot.press(str(number))
            await settle(pilot)
            assert pilot.app.current_mode == mode
            assert pilot.app.screen.query_one("#title").render().plain == title


async def test_header_shows_emulator_mode_and_never_synced(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header = pilot.app.screen
        assert header.query_one("#mode").render().plain == "EMULATOR"
        assert header.query_one("#sync").render().plain == "never synced"


async def test_empty_states_come_from_the_store(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        empty = pilot.app.screen.query_one("#empty")
        assert "no caches yet — press n to create one" in empty.render().plain
        assert empty.has_class("shown")


async def test_help_lists_bindings_with_ids(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = pilot.app.screen.query_one("Static").render().plain
        assert "Sync" in text and "Quit" in text and "Caches" in text
        assert "Cursor up" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.current_mode == "overview"


async def test_palette_jumps_to_a_pane(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to costs")
        await first_offer(pilot, "Go to Costs")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.current_mode == "costs"


async def test_every_binding_we_declare_has_an_id(offline_app):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        classes = [type(pilot.app)]
        for number in range(1, len(PANE_TITLES) + 1):
            await pilot.press(str(number))
            await settle(pilot)
            classes.append(type(pilot.app.screen))
        for cls in classes:
            declared = cls.__dict__.get("BINDINGS", [])
            assert all(b.id for b in declared), cls.__name__


@pytest.mark.parametrize("pane", ["1", "2", "3", "4", "5", "6", "7"])
def test_shell_snapshots(pane, offline_app, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press(pane)
        await settle(pilot)

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))


async def first_offer(pilot, wanted: str) -> str:
    """The palette's first hit once it starts with `wanted` (a condition, not a delay)."""
    listing = pilot.app.screen.query_one("CommandList")
    for _ in range(400):
        await pilot.pause()
        if listing.option_count:
            first = str(listing.get_option_at_index(0).prompt)
            if first.startswith(wanted):
                return first
    raise AssertionError(f"the palette never offered {wanted!r}")


async def test_palette_offers_every_action(offline_app):
    from textual.command import CommandPalette

    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = pilot.app.screen
        assert isinstance(palette, CommandPalette)
        for query, wanted in (
            ("sample workload", "Run the sample workload"), ("new cache", "New cache"),
            ("submit a jsonl", "Submit a JSONL file as a batch job"),
            ("run a tier test", "Run a tier test"),
            ("export logged", "Export logged interactions"),
        ):
            palette.query_one("CommandInput").value = query
            await first_offer(pilot, wanted)


async def test_palette_opens_a_batch_job_by_name_from_sqlite(workspace, offline_app):
    from console.tui.screens.batch_dialogs import JobDetail
    from tests.tui.test_batches import seed

    seed(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open batch nightly")
        await first_offer(pilot, "Open batch: nightly eval (batches/nightly02)")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.current_mode == "batches"
        assert isinstance(pilot.app.screen, JobDetail)
        assert "batches/nightly02" in pilot.app.screen.query("Static")[1].render().plain


async def test_palette_opens_a_new_cache_form(offline_app):
    from console.tui.screens.cache_dialogs import CacheFormScreen

    async with offline_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"new cache")
        await first_offer(pilot, "New cache")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.current_mode == "caches"
        assert isinstance(pilot.app.screen, CacheFormScreen)
