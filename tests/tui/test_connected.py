"""The console against a real emulator: connect, run the sample workload, sync, see rows."""

from __future__ import annotations

from console.bootstrap import make_app, make_workspace
from console.tui.messages import Connected, SyncFinished
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
