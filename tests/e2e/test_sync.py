"""The sync loop against the emulator: caches, batch jobs and files mirrored into SQLite,
vanished rows marked gone, batchStats kept, paging, per-resource errors, offline back-off,
ticks one at a time, and `gemops sync` headless."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from click.testing import CliRunner
from google import genai
from google.genai import types

from console.bootstrap import make_workspace
from console.cli import main
from console.commands.caches import close
from console.services.sync import RESOURCES, SyncLoop, next_interval, sync_once
from store.repos import batches, caches, files, sync_state
from tests.e2e.conftest import long_text


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time."""


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    workspace = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    yield workspace
    close(workspace)


@pytest.fixture
def client(emulator_url) -> genai.Client:
    return genai.Client(api_key="k", http_options=types.HttpOptions(base_url=emulator_url))


def inline_batch(client, n: int, name: str = "job"):
    return client.batches.create(
        model="gemini-2.5-flash",
        src=[{"contents": [{"parts": [{"text": f"question {i}"}], "role": "user"}]}
             for i in range(n)],
        config={"display_name": name},
    )


def seed_batches(emulator, n: int) -> None:
    """Batch jobs straight into the emulator's state: thousands without thousands of calls."""
    request = {"requests": [{"request": {"contents": [{"parts": [{"text": "hi"}]}]}}]}
    for i in range(n):
        emulator.state.batches.create(
            "models/gemini-2.5-flash",
            {"batch": {"displayName": f"seeded {i}", "inputConfig": {"requests": request}}},
            "v1beta", emulator.base_url,
        )


def faults(emulator, **profile) -> None:
    httpx.put(f"{emulator.base_url}/_emulator/faults", json=profile).raise_for_status()


def list_calls(emulator, operation: str) -> int:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests",
                     params={"operation": operation}).json()["requests"]
    return len(rows)


def test_a_tick_mirrors_everything_and_marks_vanished_rows_gone(ws, client, tmp_path):
    cache = client.caches.create(model="gemini-2.5-flash", config={
        "contents": [long_text(1500)], "display_name": "kept", "ttl": "3600s"})
    doomed = client.caches.create(model="gemini-2.5-flash", config={
        "contents": [long_text(1500, "x")], "display_name": "doomed"})
    note = tmp_path / "note.txt"
    note.write_text("hello")
    uploaded = client.files.upload(file=note)
    job = inline_batch(client, 3)

    result = sync_once(ws)
    assert result.ok and not result.offline
    assert (result.caches, result.batches, result.files) == (2, 1, 1)
    with ws.session() as session:
        assert {c.display_name for c in caches.active(session, now=ws.clock())} == {
            "kept", "doomed"}
        assert batches.get(session, job.name).request_count == 3
        assert files.get(session, uploaded.name).size_bytes == 5
        states = {s.resource: s for s in sync_state.all_states(session)}
    assert set(states) == {*RESOURCES, "all"}
    assert all(s.last_success_at == result.at for s in states.values())

    client.caches.delete(name=doomed.name)
    client.files.delete(name=uploaded.name)
    result = sync_once(ws)
    assert result.gone == 2
    with ws.session() as session:
        # Kept for the ledger's history, stamped gone, never deleted.
        assert caches.get(session, doomed.name).gone_at == result.at
        assert files.get(session, uploaded.name).gone_at == result.at
        assert caches.get(session, cache.name).gone_at is None


@pytest.mark.parametrize(
    "emulator_config", [{"batch": {"pending_s": 1.0, "per_request_s": 1.0}}], indirect=True
)
def test_batch_progress_comes_from_batch_stats(ws, client, emulator):
    job = inline_batch(client, 10)
    emulator.clock.advance(5.5)  # 1 s pending, then 4 of 10 requests at 1 s each
    result = sync_once(ws)
    assert result.running == 1
    with ws.session() as session:
        row = batches.get(session, job.name)
    assert row.state == "JOB_STATE_RUNNING"
    assert (row.request_count, row.succeeded_count, row.pending_count) == (10, 4, 6)
    # The SDK's own BatchJob has no counters at all: that is why sync reads raw JSON.
    assert not hasattr(client.batches.get(name=job.name), "batch_stats")
    assert next_interval(ws.settings.sync, result) == ws.settings.sync.fast_interval_s

    emulator.clock.advance(10)
    result = sync_once(ws)
    with ws.session() as session:
        row = batches.get(session, job.name)
    assert (row.state, row.succeeded_count, row.pending_count) == ("JOB_STATE_SUCCEEDED", 10, 0)
    assert result.running == 0
    assert next_interval(ws.settings.sync, result) == ws.settings.sync.interval_s


def test_listing_pages_at_the_largest_size(ws, emulator):
    seed_batches(emulator, 2345)
    result = sync_once(ws)
    assert result.batches == 2345
    assert list_calls(emulator, "batches.list") == 3  # 1,000 a page
    with ws.session() as session:
        assert len(batches.listing(session, limit=5000)) == 2345


def test_one_failing_listing_does_not_stop_the_others(ws, client, emulator, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("x")
    uploaded = client.files.upload(file=note)
    assert sync_once(ws).ok
    client.caches.create(model="gemini-2.5-flash", config={"contents": [long_text(1100)]})
    faults(emulator, error_rates={"500": 1.0}, operations=["files.list"])

    result = sync_once(ws)
    assert set(result.errors) == {"files"} and "HTTP 500" in result.errors["files"]
    assert not result.offline and result.caches == 1
    with ws.session() as session:
        states = {s.resource: s for s in sync_state.all_states(session)}
        # The file is not "gone" because its listing failed.
        assert files.get(session, uploaded.name).gone_at is None
    assert states["files"].consecutive_errors == 1 and "HTTP 500" in states["files"].last_error
    assert states["caches"].consecutive_errors == 0
    assert states["all"].consecutive_errors == 1


def test_unreachable_api_is_offline_keeps_the_state_and_backs_off(ws, client, emulator):
    client.caches.create(model="gemini-2.5-flash", config={"contents": [long_text(1100)]})
    first = sync_once(ws)
    assert first.ok
    s = ws.settings.sync

    faults(emulator, error_rates={"503": 1.0})  # the service is down
    down = [sync_once(ws) for _ in range(3)]
    assert all(r.offline for r in down)
    assert [r.consecutive_errors for r in down] == [1, 2, 3]
    assert [next_interval(s, r) for r in down] == [
        min(s.max_backoff_s, s.interval_s * 2**n) for n in (1, 2, 3)]
    with ws.session() as session:
        assert len(caches.active(session, now=ws.clock())) == 1  # the last state stays
        assert sync_state.get(session, "all").last_success_at == first.at

    faults(emulator)
    back = sync_once(ws)
    assert back.ok and back.consecutive_errors == 0

    emulator.stop()  # nothing listening at all: connection refused
    gone = sync_once(ws)
    assert gone.offline and "connection failed" in gone.errors["caches"]
    with ws.session() as session:
        assert len(caches.active(session, now=ws.clock())) == 1


def test_a_tick_in_flight_drops_the_next(ws, emulator):
    loop = SyncLoop(ws)
    faults(emulator, latency_spike_rate=1.0, latency_spike_s=0.5,
           operations=["cachedContents.list"])
    slow = threading.Thread(target=loop.tick)
    slow.start()
    while not loop.in_flight:
        pass
    assert loop.tick() is None  # dropped, not queued
    slow.join()
    assert loop.last is not None and loop.last.ok
    assert list_calls(emulator, "cachedContents.list") == 1


def test_the_headless_loop_stops_when_asked(ws):
    loop = SyncLoop(ws)
    stop = threading.Event()
    seen = []

    def on_tick(result):
        seen.append(result)
        if len(seen) == 2:
            stop.set()

    ws.settings.sync.interval_s = 0.01
    loop.run(stop, on_tick)
    assert len(seen) == 2 and all(r.ok for r in seen)


@pytest.fixture
def cli_env(settings, emulator_url, monkeypatch):
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    return settings


def test_gemops_sync_once_json_and_status(cli_env, client):
    inline_batch(client, 2)
    runner = CliRunner()
    done = runner.invoke(main, ["sync", "--once", "--json"])
    assert done.exit_code == 0, done.output
    tick = json.loads(done.output)
    assert tick["ok"] and tick["counts"] == {"caches": 0, "batches": 1, "files": 0}

    status = runner.invoke(main, ["sync", "--status"])
    assert status.exit_code == 0
    assert status.output.splitlines()[0].startswith("all      last success")
    assert {line.split()[0] for line in status.output.splitlines()} == {"all", *RESOURCES}


@pytest.mark.parametrize("emulator_config", [{"accepted_keys": ["the-right-key"]}], indirect=True)
def test_gemops_sync_once_fails_with_status_1(cli_env):
    done = CliRunner().invoke(main, ["sync", "--once"])
    assert done.exit_code == 1
    assert "failed" in done.output and "API key" in done.output
