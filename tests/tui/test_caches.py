"""The caches pane: create from a fixture document through the form, see it with its token
count, extend it, delete it — against the emulator, reflected in SQLite; refusals and API
errors are flash lines; sorting, filter, detail and the countdown on seeded rows; snapshots."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from console.bootstrap import make_app, make_workspace
from console.commands.caches import close
from console.tui.screens.cache_dialogs import CacheDetailScreen, CacheFormScreen, ExtendScreen
from console.tui.screens.caches import CachesScreen
from console.tui.widgets.flash import FlashLine
from store.repos import caches as cache_rows
from store.repos import ledger
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
HANDBOOK = DOCS / "operator-handbook.md"  # 8,609 bytes: 2,153 tokens at 4 characters a token
NOTE = DOCS / "release-note.md"  # 489 bytes: 123 tokens, below every model's minimum


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time (the gateway's sleep is injectable)."""


@pytest.fixture
def connected(settings, emulator):
    """The console on the test emulator, on the emulator's clock; no sync timer."""
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    app = make_app(settings, clock=emulator.clock.now, workspace=ws, connect=True, sync=False)
    yield app, ws, emulator
    close(ws)


def operations(emulator) -> list[str]:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests").json()["requests"]
    return [r["operation"] for r in sorted(rows, key=lambda r: r["id"])]


def flash_text(pilot) -> str:
    return pilot.app.screen.query_one(FlashLine).render().plain


def live_caches(ws):
    with ws.session() as session:
        return cache_rows.active(session, now=ws.clock())


async def open_caches(pilot) -> None:
    await settle(pilot)
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def create_through_form(pilot, *paths: Path, name: str = "") -> None:
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, CacheFormScreen)
    for path in paths:
        form.query_one("#file-input").value = str(path)
        await pilot.press("enter")
        await settle(pilot)
    if name:
        form.query_one("#display-name").value = name
    await pilot.press("ctrl+s")
    await settle(pilot)
    await settle(pilot)


async def test_create_extend_delete_through_the_pane(connected, monkeypatch):
    app, ws, emulator = connected
    shown = []
    progress = CachesScreen._progress

    def record(screen, text, done, total):
        progress(screen, text, done, total)
        shown.append((text, done, total))
        assert screen.query_one("#progress").has_class("shown")

    monkeypatch.setattr(CachesScreen, "_progress", record)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        await create_through_form(pilot, HANDBOOK, name="northwind handbook")
        assert shown == [
            ("creating cache…", 0, None),
            ("counting tokens", 0, 3),
            ("uploading operator-handbook.md (1/1, 8.4 KB)", 1, 3),
            ("creating cache", 2, 3),
            ("created", 3, 3),
        ]
        assert not pilot.app.screen.query_one("#progress").has_class("shown")
        assert "created northwind handbook — 2,153 tokens" in flash_text(pilot)
        table = pilot.app.screen.query_one("#caches")
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert (str(row[0]), str(row[7])) == ("northwind handbook", "2,153")
        (cache,) = live_caches(ws)
        assert (cache.total_tokens, cache.display_name) == (2153, "northwind handbook")
        # Counted first, then uploaded through the Files API, then created.
        ops = [op for op in operations(emulator) if op != "files.upload_chunk"]
        assert ops == ["countTokens", "files.upload", "cachedContents.create"]

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ExtendScreen)
        pilot.app.screen.query_one("#by").value = "30m"
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert "extended northwind handbook" in flash_text(pilot)
        (extended,) = live_caches(ws)
        assert extended.expires_at == pytest.approx(cache.expires_at + 1800, abs=0.01)
        remote = emulator.state.caches.get(cache.name)
        assert remote["_expires_at"] == pytest.approx(extended.expires_at, abs=0.01)

        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert flash_text(pilot) == "deleted northwind handbook"
        assert table.row_count == 0
        assert live_caches(ws) == []
        with ws.session() as session:
            assert cache_rows.get(session, cache.name).gone_at is not None
        assert emulator.state.caches.caches == {}


async def test_a_cache_below_the_minimum_is_refused_before_any_upload(connected):
    app, ws, emulator = connected
    async with app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        await create_through_form(pilot, NOTE)
        text = flash_text(pilot)
        assert "123 tokens" in text and "gemini-2.5-flash needs at least 1,024" in text
        assert "nothing was uploaded or created" in text
        assert operations(emulator) == ["countTokens"]
        assert live_caches(ws) == []
        # What was typed is kept: `n` reopens the form with the file still in it.
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, CacheFormScreen)
        assert form.query_one("#files").option_count == 1
        assert "below the minimum" in form.query_one("#estimate").render().plain


async def test_api_errors_are_flash_lines_not_crashes(connected):
    app, ws, emulator = connected
    from console.services.caches import CacheDraft, create

    async with app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        cache = create(ws, CacheDraft(model="gemini-2.5-flash", ttl_s=3600, files=(HANDBOOK,)))
        pilot.app.screen.refresh_data()
        await settle(pilot)

        # 429 on every PATCH: the gateway retries, then gives up; the pane says so.
        faults = {"error_rates": {"429": 1.0}, "operations": ["cachedContents.patch"]}
        httpx.put(f"{emulator.base_url}/_emulator/faults", json=faults).raise_for_status()
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert "rate limited (429)" in flash_text(pilot)
        assert pilot.app.screen.query_one(FlashLine).has_class("error")
        httpx.put(f"{emulator.base_url}/_emulator/faults", json={}).raise_for_status()

        # Deleted behind the console's back: the API answers 403, the row leaves the table.
        client = genai.Client(api_key="k", http_options=types.HttpOptions(
            base_url=emulator.base_url))
        client.caches.delete(name=cache.name)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert "no longer exists" in flash_text(pilot)
        assert pilot.app.screen.query_one("#caches").row_count == 0
        with ws.session() as session:
            assert cache_rows.get(session, cache.name).gone_at is not None
        assert pilot.app.is_running


async def test_ctrl_r_syncs_and_expired_caches_leave_the_table(connected):
    app, ws, emulator = connected
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url))
    client.caches.create(model="gemini-2.5-flash", config={
        "contents": [HANDBOOK.read_text()], "ttl": "600s", "display_name": "made elsewhere"})
    async with app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await settle(pilot)
        table = pilot.app.screen.query_one("#caches")
        assert [str(table.get_row_at(0)[0])] == ["made elsewhere"]
        emulator.clock.advance(601)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await settle(pilot)
        assert table.row_count == 0
        assert pilot.app.screen.query_one("#empty").has_class("shown")


# -- seeded, offline, on the frozen clock --------------------------------------------------


def seed(ws) -> None:
    """Three caches and ledger calls that used two of them, plus implicit hits."""
    now = FROZEN_NOW
    with ws.session() as session:
        cache_rows.mirror_remote(session, [
            {"name": "cachedContents/handbook01", "display_name": "northwind handbook",
             "model": "gemini-2.5-flash", "total_tokens": 2153, "created_at": now - 5400,
             "updated_at": now - 5400, "expires_at": now + 1830},
            {"name": "cachedContents/contracts02", "display_name": "contracts [2026]",
             "model": "gemini-2.5-pro", "total_tokens": 182_400, "created_at": now - 7200,
             "updated_at": now - 600, "expires_at": now + 240},
            {"name": "cachedContents/codebase03", "display_name": "",
             "model": "gemini-2.5-flash-lite", "total_tokens": 48_000, "created_at": now - 600,
             "updated_at": now - 600, "expires_at": now + 86_400},
        ], now=now)
        call = {"operation": "generate", "tier_asked": "standard", "tier_served": "standard",
                "candidate_tokens": 200, "thought_tokens": 0, "latency_ms": 800.0,
                "status": 200, "error": None, "attempt": 1, "batch": False,
                "source": "console", "request_key": None}
        rows = [
            call | {"at": now - 3000 + i * 60, "model": "gemini-2.5-flash",
                    "prompt_tokens": 2300, "cached_tokens": 2153, "total_tokens": 2500,
                    "cost": 0.0012, "standard_cost": 0.0018,
                    "cached_content": "cachedContents/handbook01", "prefix_hash": "a1b2c3d4e5f6"}
            for i in range(12)
        ] + [
            call | {"at": now - 2000 + i * 60, "model": "gemini-2.5-flash",
                    "prompt_tokens": 3000, "cached_tokens": 2048 if i else 0,
                    "total_tokens": 3200, "cost": 0.001, "standard_cost": 0.0014,
                    "cached_content": None, "prefix_hash": "0f9e8d7c6b5a"}
            for i in range(8)
        ] + [
            # Named by bare id, as a caller may: still counted for contracts02.
            call | {"at": now - 1000 + i * 60, "model": "gemini-2.5-pro",
                    "prompt_tokens": 190_000, "cached_tokens": 182_400,
                    "total_tokens": 190_500, "cost": 0.05, "standard_cost": 0.24,
                    "cached_content": "contracts02", "prefix_hash": "77aa88bb99cc"}
            for i in range(3)
        ]
        ledger.insert_many(session, rows)


def names(table) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_sort_filter_and_detail(workspace, offline_app):
    seed(workspace)
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await open_caches(pilot)
        table = pilot.app.screen.query_one("#caches")
        # Soonest expiry first by default.
        assert names(table) == ["contracts [2026]", "northwind handbook", "codebase03"]
        assert str(table.get_row_at(0)[5]) == "3" and str(table.get_row_at(1)[5]) == "12"
        await pilot.press("s")  # the next column: storage so far, largest first
        assert names(table) == ["contracts [2026]", "codebase03", "northwind handbook"]
        assert "Storage ▼" in str(table.columns["storage"].label)
        assert "sorted by storage, descending" in flash_text(pilot)
        await pilot.press("S")
        assert names(table) == ["northwind handbook", "codebase03", "contracts [2026]"]
        await pilot.click("#caches", offset=(4, 0))  # the Name header: sorts by name
        assert names(table) == ["codebase03", "contracts [2026]", "northwind handbook"]

        await pilot.press("slash")
        await pilot.press(*"flash")
        await settle(pilot)
        assert names(table) == ["codebase03", "northwind handbook"]
        await pilot.press("escape")
        await settle(pilot)
        assert names(table) == ["codebase03", "contracts [2026]", "northwind handbook"]

        table.focus()
        table.move_cursor(row=names(table).index("northwind handbook"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CacheDetailScreen)
        detail = "\n".join(s.render().plain for s in pilot.app.screen.query("Static"))
        assert "cachedContents/handbook01" in detail
        assert "12 calls · 25,836 tokens read from the cache" in detail
        # 25,836 cached tokens at $0.30 - $0.03 per 1M saved $0.0070.
        assert "$0.0070 on input" in detail


async def test_the_countdown_ticks_from_memory_not_sqlite(settings, tmp_path):
    now = [FROZEN_NOW]
    ws = make_workspace(settings, clock=lambda: now[0])
    seed(ws)
    app = make_app(settings, clock=lambda: now[0], workspace=ws, connect=False, sync=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await open_caches(pilot)
            screen = pilot.app.screen
            table = screen.query_one("#caches")
            assert str(table.get_row_at(1)[1]) == "30m30s"
            # Gone from SQLite behind the pane's back: a re-query would drop the row.
            with ws.session() as session:
                cache_rows.mark_gone(session, "cachedContents/handbook01", now=now[0])
            now[0] += 65
            screen._render_caches()  # the 1 s timer's target
            assert str(table.get_row_at(1)[1]) == "29m25s"
            assert str(table.get_row_at(0)[1]) == "2m55s"
            now[0] += 200
            screen._render_caches()
            assert str(table.get_row_at(0)[1]) == "expired"
    finally:
        ws.close()


def test_pane_populated_snapshot(workspace, offline_app, snap_compare):
    seed(workspace)

    async def before(pilot):
        await open_caches(pilot)

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))


def test_pane_empty_snapshot(offline_app, snap_compare):
    async def before(pilot):
        await open_caches(pilot)

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))
