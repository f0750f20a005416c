"""Focus a newcomer can follow: escape leaves a field for the pane's table (so pane keys work
again), the focused field looks focused, and the tier form's Tab order and prompt box."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from console.tui.screens.tier_dialogs import TierRunForm
from console.tui.screens.tiers import TiersScreen
from tests.tui.conftest import settle
from tests.unit.test_export import seed_interactions


async def open_pane(pilot, key: str) -> None:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


async def test_escape_leaves_the_logs_filter_and_pane_keys_work_again(offline_app, workspace):
    seed_interactions(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot, "7")
        screen = pilot.app.screen
        await pilot.press("slash")
        assert pilot.app.focused.id == "filter-query"
        await pilot.press(*"billing")
        await pilot.press("escape")
        assert isinstance(pilot.app.focused, DataTable) and pilot.app.focused.id == "interactions"
        # `c` is the pane's clear-filter key again, not a letter typed into the field.
        await pilot.press("c")
        await settle(pilot)
        assert screen.query_one("#filter-query", Input).value == ""


async def test_escape_leaves_the_whatif_form_and_g_groups_again(offline_app):
    async with offline_app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "6")
        screen = pilot.app.screen
        await pilot.press("w")
        field = screen.query_one("#whatif-requests", Input)
        assert field.has_focus
        focused_background = field.styles.background
        await pilot.press("escape")
        assert isinstance(pilot.app.focused, DataTable)
        assert field.styles.background != focused_background  # the focus shows, then goes
        await pilot.press("g")
        await settle(pilot)
        assert field.value == "1000"
        assert "Spend by tier" in screen.query_one("#spend-title").render().plain


async def test_escape_in_the_caches_pane_with_no_filter_returns_to_the_table(offline_app):
    async with offline_app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "2")
        await pilot.press("slash")
        assert pilot.app.focused.id == "filter"
        await pilot.press("escape")
        assert not pilot.app.screen.query_one("#filter").display


async def test_tier_form_tab_goes_from_the_prompt_to_the_tiers(offline_app, monkeypatch):
    started = []
    monkeypatch.setattr(TiersScreen, "_start_plan", lambda self, plan: started.append(plan))
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot, "4")
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, TierRunForm) and pilot.app.focused.id == "prompt"
        await pilot.press(*"fixtures/samples/questions.txt")
        order = []
        for _ in range(4):
            await pilot.press("tab")
            order.append(pilot.app.focused.id)
        assert order == ["tier-flex", "tier-standard", "tier-priority", "runs"]
        await pilot.press("ctrl+s")
        await settle(pilot)
    # What was typed in the prompt box is the prompt, even when it looks like a path.
    assert [plan.prompt for plan in started] == ["fixtures/samples/questions.txt"]


async def test_the_prompt_file_field_loads_its_text_into_the_prompt_box(offline_app, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Summarise the returns policy.\n")
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot, "4")
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#prompt-file", Input).focus()
        await pilot.press(*str(prompt), "enter")
        await settle(pilot)
        assert form.query_one("#prompt").text == "Summarise the returns policy.\n"
        assert pilot.app.focused.id == "prompt"
        form.query_one("#prompt-file", Input).focus()
        await pilot.press(*str(tmp_path / "missing.txt"), "enter")
        await settle(pilot)
        assert "does not exist" in form.query_one("#form-error").render().plain
        assert form.query_one("#prompt").text == "Summarise the returns policy.\n"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TiersScreen)
