"""Writing a finished job's results, once, with several processes on one store (a SQLite file,
then a PostgreSQL database): the drop folder's tick, the console's sync, `gemops batches
collect` and the webhook receiver may all find the same job finished at once. One of them takes
the results lease and writes; the others pass the job by. A writer that stalls past its lease
gives way, one that is killed after booking leaves the rest to another, and the ledger holds
one batch_result row per request, whatever happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from console.bootstrap import make_workspace
from console.services import batches
from console.services.callbook import owner_alive
from console.services.pricing import Usage
from console.services.sync import sync_once
from console.settings import load_settings
from store.engine import Store, make_engine
from store.migrations import migrate
from store.repos import batches as batch_repo
from tests.e2e.test_dropfolder_crash import requests_for

LEASE_S = 300.0  # the heartbeat beats every 100 s of wall time: never within these tests
REQUESTS = 5


def _store(store_url: str) -> dict[str, str]:
    return {"url": store_url} if "://" in store_url else {"path": store_url}


@pytest.fixture
def team(store_url, emulator, tmp_path):
    """Submit one file, let its job finish; yield a factory of workspaces (each its own store
    connection and gateway, as separate processes have) on one clock, and the job's name."""
    now = [time.time()]
    settings = load_settings(store=_store(store_url), gemini={"base_url": emulator.base_url},
                             drop={"lease_s": LEASE_S})
    opened = []

    def workspace():
        ws = make_workspace(settings, clock=lambda: now[0])
        opened.append(ws)
        return ws

    source = tmp_path / "tickets.jsonl"
    source.write_bytes(b"".join(orjson.dumps({"key": f"k{i}", "prompt": f"question {i}"})
                                + b"\n" for i in range(REQUESTS)))
    first = workspace()
    outcome = batches.submit_file(first, source)
    assert outcome.ok, outcome.errors
    emulator.clock.advance(60)
    assert sync_once(first).error is None
    try:
        yield workspace, outcome.drop.batch_name, now, tmp_path / "results" / "tickets.jsonl"
    finally:
        for ws in opened:
            ws.close()


def downloads(emulator) -> int:
    """Downloads of a responses file (the SDK asks for `files/ID:download`)."""
    return sum(":download" in r["path"] for r in requests_for(emulator.base_url, "files.get"))


def booked(ws, name: str) -> list[tuple[str, float]]:
    with ws.session() as session:
        return [(k, c) for k, c in session.execute(text(
            "SELECT request_key, cost FROM ledger WHERE operation = 'batch_result'"
            " AND request_key LIKE :p ORDER BY request_key"), {"p": f"{name}/%"})]


def job_row(ws, name: str):
    with ws.session() as session:
        return batch_repo.get(session, name), batch_repo.results_holder(session, name)


def keys_in(path: Path) -> list[str]:
    return [orjson.loads(line)["key"] for line in path.read_bytes().splitlines()]


def hold_download(monkeypatch, holder: threading.Thread | None = None):
    """Pause the given thread's download of the results until released; (paused, release)."""
    paused, release = threading.Event(), threading.Event()
    original = batches._responses

    def responses(ws, job, raw_job):
        found = original(ws, job, raw_job)
        if threading.current_thread() is holder_ref[0]:
            paused.set()
            assert release.wait(60)
        return found

    holder_ref = [holder]
    monkeypatch.setattr(batches, "_responses", responses)
    return paused, release, holder_ref


def test_processes_collecting_the_same_job_at_once_write_and_book_it_once(team, emulator):
    workspace, name, _, results = team
    collectors = [workspace() for _ in range(3)]
    for ws in collectors:  # connected before the race: the race is over the results
        assert ws.gateway is not None
    barrier = threading.Barrier(len(collectors))
    outcomes: dict[int, list] = {}

    def collect(i):
        barrier.wait()
        outcomes[i] = batches.collect_finished(collectors[i])

    threads = [threading.Thread(target=collect, args=(i,)) for i in range(len(collectors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    writers = [i for i, written in outcomes.items() if written]
    assert len(outcomes) == len(collectors) and len(writers) == 1, outcomes
    assert downloads(emulator) == 1  # one writer downloaded
    rows = booked(collectors[0], name)
    assert [k for k, _ in rows] == [f"{name}/k{i}" for i in range(REQUESTS)]
    lines = [orjson.loads(line) for line in results.read_bytes().splitlines()]
    assert [line["key"] for line in lines] == [f"k{i}" for i in range(REQUESTS)]
    assert sum(c for _, c in rows) == pytest.approx(sum(line["cost"] for line in lines))
    job, holder = job_row(collectors[0], name)
    assert job.results_written_at is not None and holder == (None, None)
    assert not list(results.parent.glob("*.part"))


def test_a_job_being_written_is_passed_by_until_its_writer_is_done(team, emulator,
                                                                   monkeypatch):
    """The race made certain: A has taken the job and is downloading when B collects."""
    workspace, name, _, results = team
    a, b = workspace(), workspace()
    assert b.gateway is not None
    paused, release, holder = hold_download(monkeypatch)
    outcome: list = []
    writer = threading.Thread(target=lambda: outcome.extend(batches.collect_finished(a)))
    holder[0] = writer
    writer.start()
    assert paused.wait(60)
    _, (owner, until) = job_row(b, name)
    assert owner and owner.partition("#")[0] == batches.process_owner() and until > 0
    assert batches.collect_finished(b) == []  # held by a live writer: b leaves it alone
    release.set()
    writer.join(60)
    assert [w.ok for w in outcome] == [REQUESTS]
    assert downloads(emulator) == 1
    assert len(booked(b, name)) == REQUESTS
    assert keys_in(results) == [f"k{i}" for i in range(REQUESTS)]


def test_a_writer_stalled_past_its_lease_gives_way_and_books_nothing(team, emulator,
                                                                     monkeypatch):
    workspace, name, now, results = team
    a, b = workspace(), workspace()
    assert b.gateway is not None
    paused, release, holder = hold_download(monkeypatch)
    outcome: list = []
    writer = threading.Thread(target=lambda: outcome.extend(batches.collect_finished(a)))
    holder[0] = writer
    writer.start()
    assert paused.wait(60)
    now[0] += LEASE_S + 1  # a is stuck (a GC pause, a cut link) past its lease
    [written] = batches.collect_finished(b)  # b takes the job over and writes it
    assert written.ok == REQUESTS
    release.set()
    writer.join(60)
    assert outcome == []  # a found its lease gone and wrote nothing
    assert downloads(emulator) == 2
    assert [k for k, _ in booked(a, name)] == [f"{name}/k{i}" for i in range(REQUESTS)]
    assert keys_in(results) == [f"k{i}" for i in range(REQUESTS)]
    job, holder_now = job_row(a, name)
    assert job.results_written_at is not None and holder_now == (None, None)


def test_a_writer_killed_after_booking_leaves_the_rest_to_another(team, emulator, store_url,
                                                                  tmp_path):
    workspace, name, now, results = team
    env = dict(os.environ) | {
        "GEMOPS_GEMINI__BASE_URL": emulator.base_url,
        "GEMOPS_DROP__LEASE_S": str(LEASE_S),
        batches.CRASH_ENV: "results_booked",
    }
    env["GEMOPS_STORE__URL" if "://" in store_url else "GEMOPS_STORE__PATH"] = store_url
    done = subprocess.run([sys.executable, "-m", "console.cli", "batches", "collect"], env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-3000:]

    b = workspace()
    job, (dead, until) = job_row(b, name)
    # Killed between booking and recording: the file and the ledger rows are there, the job
    # still reads unwritten, and the dead writer's lease is on it.
    assert job.results_written_at is None and dead and until > now[0]
    assert len(booked(b, name)) == REQUESTS
    assert keys_in(results) == [f"k{i}" for i in range(REQUESTS)]
    assert not owner_alive(dead.partition("#")[0])
    lease = batches.ResultsLease(b, name)
    assert lease.take()  # a dead process on this host: its lease is taken at once
    with b.session() as session:  # ... but say it was a writer on another host: it must wait
        batch_repo.annotate(session, name, results_owner="elsewhere:4242:1#ab",
                            results_lease_until=until)
    assert batches.collect_finished(b) == []
    now[0] = until + 1
    [written] = batches.collect_finished(b)
    assert written.ok == REQUESTS
    rows = booked(b, name)
    assert [k for k, _ in rows] == [f"{name}/k{i}" for i in range(REQUESTS)]  # not twice
    lines = [orjson.loads(line) for line in results.read_bytes().splitlines()]
    assert sum(c for _, c in rows) == pytest.approx(sum(line["cost"] for line in lines))
    job, holder = job_row(b, name)
    assert job.results_written_at is not None and holder == (None, None)


def test_booking_the_same_batch_results_twice_keeps_one_row_each(team):
    """The ledger's own guard (a UNIQUE index on batch_result request keys, inserts that skip
    a key already there): two gateways book the same results and flush, one row each."""
    workspace, name, _, _ = team
    gateways = [workspace().gateway, workspace().gateway]
    usage = Usage(100, output_tokens=20)
    for gateway in gateways:
        for i in range(REQUESTS):
            gateway.record_batch_result(model="gemini-2.5-flash", usage=usage, status=200,
                                        error=None, request_key=f"{name}/k{i}", source="drop")
        gateway.record_batch_result(model="gemini-2.5-flash", usage=usage, status=200,
                                    error=None, request_key=None, source="drop")
    for gateway in gateways:
        gateway.flush_ledger()
    ws = workspace()
    assert [k for k, _ in booked(ws, name)] == [f"{name}/k{i}" for i in range(REQUESTS)]
    with ws.session() as session:  # rows without a key are not deduplicated
        assert session.execute(text("SELECT count(*) FROM ledger WHERE operation ="
                                    " 'batch_result' AND request_key IS NULL")).scalar() == 2


def test_the_migration_drops_rows_booked_twice_before_it(store_url):
    engine = make_engine(store_url)
    migrate(engine, target=13)
    insert = text("INSERT INTO ledger (at, model, operation, cost, request_key) VALUES "
                  "(:at, 'm', :op, :cost, :key)")
    with engine.begin() as conn:
        for at, op, cost, key in [(1.0, "batch_result", 0.5, "j/a"), (2.0, "batch_result", 0.5,
                                  "j/a"), (3.0, "batch_result", 0.25, "j/b"),
                                  (4.0, "generate", 1.0, "j/a"), (5.0, "generate", 1.0, "j/a"),
                                  (6.0, "batch_result", 0.1, None),
                                  (7.0, "batch_result", 0.1, None)]:
            conn.execute(insert, {"at": at, "op": op, "cost": cost, "key": key})
    engine.dispose()
    opened = Store.open(store_url)  # start-up migrates to the latest
    with opened.session() as session:
        rows = session.execute(text("SELECT at, operation, request_key FROM ledger ORDER BY at"))
        assert [tuple(r) for r in rows] == [
            (1.0, "batch_result", "j/a"), (3.0, "batch_result", "j/b"), (4.0, "generate", "j/a"),
            (5.0, "generate", "j/a"), (6.0, "batch_result", None), (7.0, "batch_result", None)]
    opened.close()
