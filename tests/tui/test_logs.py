"""The logs pane: filter by label, model, source and dates; totals; view one; export with progress."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, ProgressBar, Select, Static

from console.services.interactions import logging_enabled, record_interaction
from console.services.pricing import Usage
from console.tui.messages import StoreChanged
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle
from tests.unit.test_export import seed_interactions


def _keys(pilot) -> set[int]:
    table = pilot.app.screen.query_one("#interactions")
    return {int(k.value) for k in table.rows}


def _totals(pilot) -> str:
    return str(pilot.app.screen.query_one("#totals", Static).render())


async def _open_logs(pilot) -> None:
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)


async def _type_filter(pilot, widget_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(widget_id, Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_filter_by_label_model_source_and_dates_with_totals(offline_app, workspace):
    ids = seed_interactions(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        assert _keys(pilot) == set(ids)
        assert "5 interactions · 181 in / 58 out / 20 thought tokens" in _totals(pilot)

        await pilot.press("slash")
        assert pilot.app.focused.id == "filter-query"
        await _type_filter(pilot, "#filter-query", "dataset=support-v2")
        assert _keys(pilot) == {ids[0], ids[1], ids[4]}
        assert "3 interactions · 126 in / 38 out / 20 thought tokens" in _totals(pilot)

        screen = pilot.app.screen
        screen.query_one("#filter-source", Select).value = "console"
        await settle(pilot)
        assert _keys(pilot) == {ids[0], ids[4]}

        await _type_filter(pilot, "#filter-since", "24h")
        assert _keys(pilot) == {ids[4]}
        assert "1 interaction · 20 in / 6 out" in _totals(pilot)

        await pilot.press("c")
        await settle(pilot)
        assert _keys(pilot) == set(ids)

        screen.query_one("#filter-model", Select).value = "gemini-2.5-pro"
        await settle(pilot)
        assert _keys(pilot) == {ids[2], ids[3]}
        await _type_filter(pilot, "#filter-until", "2026-09-20")
        await _type_filter(pilot, "#filter-since", "2026-09-20")
        assert _keys(pilot) == {ids[2], ids[3]}  # both on the 20th: a whole day, inclusive
        await _type_filter(pilot, "#filter-query", "IBAN")
        assert _keys(pilot) == {ids[2]}


async def test_a_bad_date_is_explained_and_nothing_changes(offline_app, workspace):
    seed_interactions(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        await _type_filter(pilot, "#filter-since", "last tuesday")
        flash = str(pilot.app.screen.query_one("FlashLine").render())
        assert "YYYY-MM-DD" in flash
        assert len(_keys(pilot)) == 5


async def test_view_one_interaction_in_full(offline_app, workspace):
    ids = seed_interactions(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        table = pilot.app.screen.query_one("#interactions")
        table.focus()
        table.move_cursor(row=table.get_row_index(str(ids[1])))
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert type(detail).__name__ == "InteractionDetail"
        text = str(detail.query_one("#detail-text", Static).render())
        assert "Call me on [PHONE_REDACTED] please." in text
        assert "── model ──" in text and "After 5pm; my SSN is [SSN_REDACTED]" in text
        assert "labels dataset=support-v2 run=t1" in text
        assert "thought" in text
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LogsScreen"


async def test_export_the_current_filter_with_a_progress_bar(
    offline_app, workspace, tmp_path, monkeypatch
):
    import console.services.export as export

    monkeypatch.setattr(export, "PROGRESS_EVERY", 1)
    monkeypatch.setattr("console.tui.screens.logs.PROGRESS_DRAW_S", 0.0)  # every row drawn
    monkeypatch.setattr("store.repos.interactions.STREAM_CHUNK", 1)
    ids = seed_interactions(workspace)
    out = tmp_path / "support.jsonl"
    updates: list[tuple[float | None, float]] = []
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        await _type_filter(pilot, "#filter-query", "dataset=support-v2")
        bar = pilot.app.screen.query_one("#export-progress", ProgressBar)
        original = bar.update

        def watch(**kwargs):
            updates.append((kwargs.get("total"), kwargs.get("progress", 0)))
            original(**kwargs)

        monkeypatch.setattr(bar, "update", watch)
        await pilot.press("e")
        await settle(pilot)
        dialog = pilot.app.screen
        assert type(dialog).__name__ == "ExportDialog"
        assert "3 interactions" in str(dialog.query_one("#export-what", Static).render())
        assert dialog.query_one("#export-path", Input).value == "interactions-20260921-1413.jsonl"
        dialog.query_one("#export-format", Select).value = "openai"
        await settle(pilot)
        assert dialog.query_one("#export-path", Input).value == "interactions-20260921-1413.jsonl"
        dialog.query_one("#export-path", Input).value = str(out)
        await pilot.click("#export-start")
        await settle(pilot)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LogsScreen"
        flash = str(pilot.app.screen.query_one("FlashLine").render())
        assert "exported 3 interactions" in flash
        assert not pilot.app.screen.query_one("#export-row").has_class("running")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 and all("messages" in line for line in lines)
    # The bar went from 0 of 3 to 3 of 3 one row at a time.
    assert updates[0] == (3, 0)
    progress = [p for _, p in updates]
    assert progress == sorted(progress) and {0, 1, 2, 3} <= set(progress)
    assert updates[-1] == (3, 3)
    assert len(ids) == 5


async def test_new_interactions_arrive_on_top_and_an_idle_tick_reads_nothing(
    offline_app, workspace, monkeypatch
):
    import console.services.interactions as interactions

    ids = seed_interactions(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        reads = []
        real_page = interactions.repo.page
        monkeypatch.setattr(
            interactions.repo, "page", lambda *a, **k: reads.append(1) or real_page(*a, **k)
        )
        pilot.app.screen.post_message(StoreChanged("all"))  # a sync tick, nothing new
        await settle(pilot)
        assert reads == []
        newest = record_interaction(
            workspace, model="gemini-2.5-flash", tier="standard", source="console",
            contents="a new question", system_instruction=None, response_text="an answer",
            usage=Usage(7, 0, 3), cost=0.0, log=True, at=FROZEN_NOW - 60,
        )
        pilot.app.screen.post_message(StoreChanged("all"))
        await settle(pilot)
        table = pilot.app.screen.query_one("#interactions")
        order = [int(row.key.value) for row in table.ordered_rows]
        assert order == [newest, *sorted(ids, reverse=True)]
        assert "6 interactions" in _totals(pilot)


async def test_logging_toggle_is_for_this_session(offline_app, workspace):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await _open_logs(pilot)
        assert "logging off" in _totals(pilot)
        assert "press l to log this session" in str(pilot.app.screen.query_one("#empty").render())
        await pilot.press("l")
        await settle(pilot)
        assert logging_enabled(workspace)
        assert "logging on" in _totals(pilot)
        assert workspace.settings.logging.enabled is False  # the setting itself is untouched
        await pilot.press("l")
        await settle(pilot)
        assert not logging_enabled(workspace)


@pytest.mark.parametrize("state", ["seeded", "filtered", "detail"])
def test_logs_snapshots(state, offline_app, workspace, snap_compare):
    seed_interactions(workspace)

    async def before(pilot):
        await _open_logs(pilot)
        if state == "filtered":
            await _type_filter(pilot, "#filter-query", "dataset=support-v2")
            pilot.app.screen.query_one("#interactions").focus()
            await settle(pilot)
        if state == "detail":
            pilot.app.screen.query_one("#interactions").focus()
            await pilot.press("v")
            await settle(pilot)

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))
