"""The sync loop in the console: ctrl+r syncs now, the header says how old the data is, what
failed and when it retries, OFFLINE while the API is unreachable — and the panes keep the
last state; a restart shows the last recorded sync before the first tick."""

from __future__ import annotations

import re

import httpx
from google import genai
from google.genai import types

from console.bootstrap import make_app, make_workspace
from console.tui.messages import SyncFinished
from console.tui.widgets.flash import FlashLine
from tests.e2e.conftest import long_text
from tests.tui.conftest import settle


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time."""


def header(pilot) -> tuple[str, bool]:
    screen = pilot.app.screen
    return (screen.query_one("#sync").render().plain,
            screen.query_one("#offline").has_class("shown"))


def fresh(text: str) -> bool:
    """"synced Ns ago" for a sync a moment ago (the emulator's clock is real time)."""
    return re.fullmatch(r"synced \ds ago", text) is not None


async def test_offline_badge_back_off_and_recovery(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.sync.interval_s = 60  # no timer tick during the test: ctrl+r drives it
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url))
    client.caches.create(model="gemini-2.5-flash",
                         config={"contents": [long_text(1200)], "display_name": "kept"})
    ws = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    app = make_app(settings, clock=emulator.clock.now, workspace=ws, connect=True, sync=True)
    seen: list = []
    try:
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await settle(pilot)
            await settle(pilot)
            await settle(pilot)
            assert any(isinstance(m, SyncFinished) and m.error is None for m in seen)
            await pilot.press("2")
            await settle(pilot)
            text, offline = header(pilot)
            assert fresh(text) and not offline
            table = pilot.app.screen.query_one("#caches")
            assert table.row_count == 1

            httpx.put(f"{emulator.base_url}/_emulator/faults",
                      json={"error_rates": {"503": 1.0}}).raise_for_status()
            await pilot.press("ctrl+r")
            await settle(pilot)
            await settle(pilot)
            text, offline = header(pilot)
            # Backing off: twice the cadence, capped at max_backoff_s (120 s).
            assert offline and re.fullmatch(r"synced \ds ago · retry in (2m00s|1m5\ds)", text)
            assert "sync failed" in pilot.app.screen.query_one(FlashLine).render().plain
            assert table.row_count == 1  # the last state stays on screen

            httpx.put(f"{emulator.base_url}/_emulator/faults", json={}).raise_for_status()
            await pilot.press("ctrl+r")
            await settle(pilot)
            await settle(pilot)
            text, offline = header(pilot)
            assert fresh(text) and not offline
            assert pilot.app.screen.query_one(FlashLine).render().plain == "sync recovered"
    finally:
        ws.close()

    # A restart, offline: the header says how old the mirrored data is before any tick.
    emulator.clock.advance(125)
    again = make_workspace(settings, clock=emulator.clock.now)
    restarted = make_app(settings, clock=emulator.clock.now, workspace=again, connect=False,
                         sync=False)
    try:
        async with restarted.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await settle(pilot)
            text, offline = header(pilot)
            assert re.fullmatch(r"synced 2m0\ds ago", text) and not offline
            await pilot.press("2")
            await settle(pilot)
            assert pilot.app.screen.query_one("#caches").row_count == 1
    finally:
        again.close()


async def test_a_partial_failure_names_what_failed(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.sync.interval_s = 60
    ws = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    app = make_app(settings, clock=emulator.clock.now, workspace=ws, connect=True, sync=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await settle(pilot)
            httpx.put(f"{emulator.base_url}/_emulator/faults",
                      json={"error_rates": {"500": 1.0}, "operations": ["files.list"]})
            await pilot.press("ctrl+r")
            await settle(pilot)
            await settle(pilot)
            text, offline = header(pilot)
            assert not offline
            assert re.fullmatch(r"synced \ds ago · files failed · retry in (2m00s|1m5\ds)", text)
    finally:
        ws.close()
