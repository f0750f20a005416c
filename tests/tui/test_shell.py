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
        await pilot.pause(0.3)
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
