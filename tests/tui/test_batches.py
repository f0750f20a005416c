"""The batch jobs pane: state, progress, time in state, stuck and expired flags, the drop
folder's activity; cancel and delete behind a confirmation; watching the drop folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from console.bootstrap import make_app, make_workspace
from console.services import batches as batch_service
from console.services.sync import sync_once
from console.tui.screens.batch_dialogs import JobDetail
from console.tui.screens.confirm import ConfirmScreen
from store.repos import batches, drops
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle

NOW = FROZEN_NOW
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"
DROP = "/srv/gemops/drop"


def job(name: str, state: str, **values) -> dict:
    row = {
        "name": name, "display_name": "", "model": "gemini-2.5-flash", "state": state,
        "created_at": NOW - 7200, "updated_at": NOW - 60, "ended_at": None,
        "request_count": 100, "succeeded_count": 0, "failed_count": 0, "pending_count": 100,
        "input_file": "files/input-1", "responses_file": None, "error": None,
    }
    return row | values


def seed(ws) -> None:
    """A running drop-folder job, one stuck in PENDING, an expired one, a finished one, and
    the drop folder's files (one rejected, one running concurrently)."""
    with ws.session() as session:
        tickets, _ = drops.claim(session, content_hash="a" * 64, name="support-tickets",
                                 path=f"{DROP}/submitted/support-tickets.jsonl", route="batch",
                                 step="submitted", now=NOW - 900)
        drops.advance(session, tickets.id, now=NOW - 880, batch_name="batches/tickets01",
                      request_count=100, remote_file="files/up-1")
        rejected, _ = drops.claim(session, content_hash="b" * 64, name="bad-prompts",
                                  path=f"{DROP}/rejected/bad-prompts.jsonl", route="auto",
                                  step="rejected", now=NOW - 300)
        drops.advance(session, rejected.id, now=NOW - 300,
                      error="3 bad line(s); see rejected/bad-prompts.errors.txt")
        flex, _ = drops.claim(session, content_hash="c" * 64, name="faq-rewrite",
                              path=f"{DROP}/submitted/faq-rewrite.jsonl", route="flex",
                              step="running", now=NOW - 120)
        drops.advance(session, flex.id, now=NOW - 30, request_count=8, done_requests=5)
        batches.mirror_remote(session, [job(
            "batches/tickets01", "JOB_STATE_RUNNING",
            display_name="support-tickets gemops:aaaaaaaaaaaaaaaaaaaa", succeeded_count=40,
            failed_count=2, pending_count=58)], now=NOW - 600, complete=False)
        batches.annotate(session, "batches/tickets01", drop_file_id=tickets.id,
                         results_path=f"{DROP}/results/support-tickets.jsonl")
        batches.mirror_remote(session, [job("batches/nightly02", "JOB_STATE_PENDING",
                                            display_name="nightly eval",
                                            created_at=NOW - 8 * 3600)],
                              now=NOW - 8 * 3600, complete=False)
        batches.mirror_remote(session, [job("batches/archive03", "JOB_STATE_EXPIRED",
                                            display_name="archive summaries",
                                            created_at=NOW - 50 * 3600, succeeded_count=12,
                                            pending_count=0, error="Batch has not been "
                                            "processed within the 48h timeframe.")],
                              now=NOW - 3600, complete=False)
        batches.mirror_remote(session, [job("batches/done04", "JOB_STATE_SUCCEEDED",
                                            display_name="weekly digest",
                                            created_at=NOW - 3 * 3600, succeeded_count=100,
                                            pending_count=0)],
                              now=NOW - 1800, complete=False)


@pytest.fixture
def seeded_app(settings, frozen_clock, workspace):
    seed(workspace)
    return make_app(settings, clock=frozen_clock, workspace=workspace, connect=False, sync=False)


async def open_pane(pilot) -> None:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)


def cells(table, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


async def test_jobs_show_state_progress_time_in_state_and_flags(seeded_app):
    async with seeded_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        table = pilot.app.screen.query_one("#batches")
        assert table.row_count == 4
        running = cells(table, "batches/tickets01")
        assert running[0] == "support-tickets"  # the drop file's name, not the hash tag
        assert running[1] == "RUNNING" and "42%" in running[2]
        assert running[3] == "40 / 2 / 58" and running[4] == "10m00s"
        stuck = cells(table, "batches/nightly02")
        assert stuck[1] == "PENDING  ⚠ stuck" and stuck[4] == "8h00m"
        assert cells(table, "batches/archive03")[1] == "EXPIRED  ⚠ 48 h"
        assert "100%" in cells(table, "batches/done04")[2]


async def test_the_stuck_threshold_is_a_setting(seeded_app):
    seeded_app.workspace.settings.sync.stuck_pending_s = 9 * 3600
    async with seeded_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        assert cells(pilot.app.screen.query_one("#batches"), "batches/nightly02")[1] == "PENDING"


async def test_drop_folder_activity_is_shown_and_can_be_hidden(seeded_app):
    async with seeded_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        screen = pilot.app.screen
        title = screen.query_one("#drop-title").render().plain
        assert DROP in title and "3 files" in title and "not watched from here" in title
        table = screen.query_one("#drops")
        rows = {cells(table, key)[0]: cells(table, key) for key in table.row_keys}
        assert rows["bad-prompts"][2] == "rejected" and "3 bad line(s)" in rows["bad-prompts"][4]
        assert rows["faq-rewrite"][4] == "5 of 8 answered" and rows["faq-rewrite"][1] == "flex"
        assert rows["support-tickets"][4] == "batches/tickets01"
        await pilot.press("f")
        await pilot.pause()
        assert not screen.query_one("#drop-section").display
        await pilot.press("f")
        await pilot.pause()
        assert screen.query_one("#drop-section").display


async def test_detail_and_no_cancel_for_a_finished_job(seeded_app):
    async with seeded_app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        table = pilot.app.screen.query_one("#batches")
        table.move_cursor(row=table.get_row_index("batches/done04"))
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert "already succeeded" in pilot.app.screen.query_one("#flash").render().plain
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, JobDetail)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.current_mode == "batches"


def test_batches_pane_snapshot(seeded_app, snap_compare):
    async def before(pilot):
        await open_pane(pilot)

    assert snap_compare(seeded_app, run_before=before, terminal_size=(120, 36))


def test_cancel_confirmation_snapshot(seeded_app, snap_compare):
    async def before(pilot):
        await open_pane(pilot)
        table = pilot.app.screen.query_one("#batches")
        table.move_cursor(row=table.get_row_index("batches/tickets01"))
        await pilot.press("c")
        # Under load the dialog may paint before Keep takes the focus: wait for it.
        for _ in range(50):
            await pilot.pause()
            if getattr(pilot.app.focused, "id", None) == "keep":
                break
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(seeded_app, run_before=before, terminal_size=(120, 36))


# -- against the emulator ---------------------------------------------------------------------


@pytest.fixture
def live(settings, emulator, tmp_path):
    settings.gemini.base_url = emulator.base_url
    settings.drop.folder = tmp_path / "drop"
    settings.drop.settle_ms = 50
    ws = make_workspace(settings)
    yield ws
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


async def settle_reads(pilot) -> None:
    await pilot.pause()
    reads = [w for w in pilot.app.workers if w.group != "dropfolder"]
    if reads:  # an empty list would mean every worker, the watcher too
        await pilot.app.workers.wait_for_complete(reads)
    await pilot.pause()


def logged(emulator, operation: str) -> int:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests",
                     params={"operation": operation}).json()["requests"]
    return len([r for r in rows if r["status"] == 200])


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 600.0}}], indirect=True)
async def test_cancel_and_delete_ask_first(live, emulator, tmp_path):
    source = tmp_path / "slow.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    name = batch_service.submit_file(live, source).drop.batch_name
    sync_once(live)
    app = make_app(live.settings, workspace=live, connect=True, sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert logged(emulator, "batches.cancel") == 0
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert logged(emulator, "batches.cancel") == 1
        table = pilot.app.screen.query_one("#batches")
        assert cells(table, name)[1] == "CANCELLED"
        assert cells(table, name)[5] == "written"  # every key, with the cancellation
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert logged(emulator, "batches.delete") == 0
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert logged(emulator, "batches.delete") == 1
        assert pilot.app.screen.query_one("#batches").row_count == 0


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 0.0,
                                                        "per_request_s": 0.0}}], indirect=True)
async def test_watching_the_drop_folder_from_the_pane(live, emulator):
    app = make_app(live.settings, workspace=live, connect=True, sync=False)
    root = live.settings.drop_dir
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("w")
        await pilot.pause()
        deadline = time.monotonic() + 15
        while not (root / ".gemops" / "watch.lock").exists() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        incoming = root.parent / "incoming.jsonl"
        incoming.write_bytes(b"".join(orjson.dumps({"key": f"k{i}", "prompt": f"q{i}"}) + b"\n"
                                      for i in range(12)))
        incoming.rename(root / "batch" / "from-the-pane.jsonl")
        while not (root / "results" / "from-the-pane.jsonl").exists() and \
                time.monotonic() < deadline:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        await settle_reads(pilot)  # `settle` would wait for the watcher itself
        screen = pilot.app.screen
        assert "watching" in screen.query_one("#drop-title").render().plain
        table = screen.query_one("#drops")
        [key] = table.row_keys
        assert cells(table, key)[0] == "from-the-pane" and cells(table, key)[2] == "done"
        assert screen.query_one("#batches").row_count == 1
        await pilot.press("w")
        await pilot.pause()
        stopped = threading.Event()
        while not stopped.is_set() and time.monotonic() < deadline:
            if not any(w.group == "dropfolder" and not w.is_finished
                       for w in pilot.app.workers):
                stopped.set()
            await pilot.pause(0.05)
        assert stopped.is_set()
    assert logged(emulator, "batchGenerateContent") == 1


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 0.0,
                                                        "per_request_s": 0.0}}], indirect=True)
async def test_finished_jobs_get_their_results_written_while_the_pane_is_open(live, emulator,
                                                                              tmp_path):
    source = tmp_path / "nightly.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    name = batch_service.submit_file(live, source).drop.batch_name
    sync_once(live)
    app = make_app(live.settings, workspace=live, connect=True, sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await settle(pilot)
        assert (tmp_path / "results" / "nightly.jsonl").exists()
        assert cells(pilot.app.screen.query_one("#batches"), name)[5] == "written"
