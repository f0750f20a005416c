"""The console against a real emulator: connect, run the sample workload, sync, see rows."""

from __future__ import annotations

from console.bootstrap import make_app, make_workspace
from console.tui.messages import Connected, Flash, SyncFinished
from console.tui.screens.confirm import ConfirmScreen
from store.repos import batches
from tests.tui.conftest import settle


async def test_sample_workload_then_sync_fills_the_panes(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings)
    app = make_app(settings, workspace=ws, connect=True, sync=True)
    seen: list = []
    try:
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await settle(pilot)
            await settle(pilot)
            assert any(isinstance(m, Connected) for m in seen)
            await pilot.press("s")
            await settle(pilot)
            await settle(pilot)
            assert any(isinstance(m, SyncFinished) and m.error is None for m in seen)
            assert pilot.app.last_sync_at is not None and not pilot.app.offline
            await pilot.press("2")
            await settle(pilot)
            table = pilot.app.screen.query_one("#caches")
            assert table.row_count == 1
            assert "support handbook (sample)" in str(table.get_row_at(0)[0])
            await pilot.press("3")
            await settle(pilot)
            assert pilot.app.screen.query_one("#batches").row_count == 1
            await pilot.press("6")
            await settle(pilot)
            assert pilot.app.screen.query_one("#spend").row_count == 1
    finally:
        ws.close()


async def test_the_sample_says_its_steps_asks_before_a_second_run_and_r_shows_results(
    settings, emulator
):
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings)
    app = make_app(settings, workspace=ws, connect=True, sync=False)
    seen: list = []
    try:
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            steps = [m.text for m in seen if isinstance(m, Flash) and m.text.startswith("sample:")]
            # (the hook hears a message at each node it reaches: once per step is enough)
            assert list(dict.fromkeys(s.split(" ")[1] for s in steps)) == [
                "starting", "1/5", "2/5", "3/5", "4/5", "5/5"]
            assert any("results in" in m.text for m in seen if isinstance(m, Flash))

            # `r` on the sample's batch: its results, not "not submitted by gemops".
            await pilot.press("3")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            flash = pilot.app.screen.query_one("#flash").render().plain
            assert flash.startswith("results: ") and "not submitted" not in flash

            # A second `s` asks; "n" keeps the store as it was.
            await pilot.press("1")
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            assert isinstance(pilot.app.screen, ConfirmScreen)
            await pilot.press("n")
            await settle(pilot)
            assert not any(w.group == "samples" and not w.is_finished for w in app.workers)
        with ws.session() as session:
            assert len(batches.listing(session)) == 1
    finally:
        ws.close()
