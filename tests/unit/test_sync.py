"""Sync without the network: wire JSON -> rows, the cadence and back-off, what a tick result
says, and mirroring that writes only what changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.services.remote import RemoteBatch, RemoteCache, RemoteFile, parse_time
from console.services.sync import TickResult, _mirror, next_interval
from console.settings import SyncSettings
from store.engine import Store
from store.repos import batches, caches

T0 = datetime(2026, 9, 21, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-09-21T12:00:00Z", T0),
        ("2026-09-21T12:00:00.250Z", T0 + 0.25),
        ("2026-09-21T12:00:00.123456789Z", T0 + 0.123456),  # nanoseconds: truncated
        ("2026-09-21T14:00:00+02:00", T0),
        ("2026-09-21T12:00:00.5+00:00", T0 + 0.5),
        (None, None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == (pytest.approx(expected) if expected is not None else None)


def test_batch_row_keeps_batch_stats_and_speaks_job_state():
    raw = {
        "name": "batches/abc",
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": "models/gemini-2.5-flash",
            "displayName": "nightly",
            "createTime": "2026-09-21T12:00:00Z",
            "updateTime": "2026-09-21T12:05:00Z",
            "batchStats": {"requestCount": "10", "successfulRequestCount": "4",
                           "failedRequestCount": "1", "pendingRequestCount": "5"},
            "state": "BATCH_STATE_RUNNING",
            "inputConfig": {"fileName": "files/in"},
        },
    }
    row = RemoteBatch.from_json(raw).row()
    assert row["state"] == "JOB_STATE_RUNNING" and row["model"] == "gemini-2.5-flash"
    assert (row["request_count"], row["succeeded_count"], row["failed_count"],
            row["pending_count"]) == (10, 4, 1, 5)
    assert row["input_file"] == "files/in" and row["ended_at"] is None
    failed = RemoteBatch.from_json({"name": "batches/x", "metadata": {
        "state": "BATCH_STATE_FAILED"}, "error": {"code": 13, "message": "internal"}}).row()
    assert failed["error"] == "internal" and failed["request_count"] == 0


def test_cache_and_file_rows():
    cache = RemoteCache.from_json({"name": "cachedContents/c", "model": "models/gemini-2.5-pro",
                                   "usageMetadata": {"totalTokenCount": 5000},
                                   "expireTime": "2026-09-21T12:00:00Z"}).row()
    assert (cache["model"], cache["total_tokens"], cache["expires_at"]) == (
        "gemini-2.5-pro", 5000, T0)
    assert cache["display_name"] == "" and cache["created_at"] is None
    f = RemoteFile.from_json({"name": "files/f", "sizeBytes": "42", "state": "ACTIVE",
                              "expirationTime": "2026-09-21T12:00:00Z"}).row()
    assert (f["size_bytes"], f["state"], f["expires_at"]) == (42, "ACTIVE", T0)


def test_cadence_fast_while_running_and_back_off_after_errors():
    s = SyncSettings(interval_s=10, fast_interval_s=3, max_backoff_s=120)
    assert next_interval(s, None) == 10
    assert next_interval(s, TickResult(at=0)) == 10
    assert next_interval(s, TickResult(at=0, running=2)) == 3
    backoff = [next_interval(s, TickResult(at=0, running=2, consecutive_errors=n))
               for n in range(1, 6)]
    assert backoff == [20, 40, 80, 120, 120]
    # A cap below the cadence never makes an erroring loop tick faster than a healthy one.
    slow = SyncSettings(interval_s=300, max_backoff_s=120)
    assert next_interval(slow, TickResult(at=0, consecutive_errors=3)) == 300


def test_what_a_tick_result_says():
    ok = TickResult(at=1, counts={"caches": 2, "batches": 3, "files": 0}, gone=1,
                    duration_ms=12.4)
    assert ok.ok and not ok.offline and ok.error is None
    assert ok.summary() == "synced 2 caches, 3 batch jobs, 0 files (1 gone) in 12 ms"
    partial = TickResult(at=1, counts={"caches": 2, "batches": 3},
                         errors={"files": "HTTP 500"}, unreachable=frozenset({"files"}))
    assert not partial.ok and not partial.offline
    assert partial.summary().endswith("failed: files: HTTP 500")
    down = TickResult(at=1, errors=dict.fromkeys(("caches", "batches", "files"), "refused"),
                      unreachable=frozenset({"caches", "batches", "files"}))
    assert down.offline and down.summary().startswith("offline:")
    refused = TickResult(at=1, errors=dict.fromkeys(("caches", "batches", "files"), "403"))
    assert not refused.offline  # an answer saying no is not "unreachable"
    assert down.as_dict()["offline"] is True


def _job(name: str, state: str, done: int, updated: float) -> dict:
    return {"name": name, "display_name": "", "model": "gemini-2.5-flash", "state": state,
            "created_at": T0, "updated_at": updated, "ended_at": None, "request_count": 10,
            "succeeded_count": done, "failed_count": 0, "pending_count": 10 - done,
            "input_file": None, "responses_file": None, "error": None}


def _changes(session) -> int:
    return session.connection().exec_driver_sql("SELECT total_changes()").scalar()


def test_a_steady_tick_writes_only_what_changed(tmp_path):
    store = Store.open(tmp_path / "g.sqlite3")
    rows = [_job(f"batches/{i}", "JOB_STATE_RUNNING", 1, T0) for i in range(3)]
    with store.session() as session:
        assert _mirror(session, "batches", rows, T0) == 0
        before = _changes(session)
        assert _mirror(session, "batches", rows, T0 + 50) == 0
        assert _changes(session) == before  # the same listing again writes nothing
    rows[1] = _job("batches/1", "JOB_STATE_SUCCEEDED", 10, T0 + 60)
    with store.session() as session:
        gone = _mirror(session, "batches", rows[:2], T0 + 100)  # batches/2 vanished
    assert gone == 1
    with store.session() as session:
        by_name = {b.name: b for b in batches.listing(session, include_gone=True)}
    assert (by_name["batches/1"].state, by_name["batches/1"].succeeded_count) == (
        "JOB_STATE_SUCCEEDED", 10)
    assert by_name["batches/1"].state_since == T0 + 100
    assert by_name["batches/0"].state_since == T0
    assert by_name["batches/2"].gone_at == T0 + 100 and by_name["batches/0"].gone_at is None
    # Listed again: back from gone.
    with store.session() as session:
        _mirror(session, "batches", rows, T0 + 200)
        assert batches.get(session, "batches/2").gone_at is None
    store.close()


def test_an_empty_listing_marks_every_live_row_gone(tmp_path):
    store = Store.open(tmp_path / "g.sqlite3")
    row = {"name": "cachedContents/a", "display_name": "a", "model": "gemini-2.5-flash",
           "total_tokens": 2000, "created_at": T0, "updated_at": T0, "expires_at": T0 + 60}
    with store.session() as session:
        _mirror(session, "caches", [row], T0)
        assert _mirror(session, "caches", [], T0 + 1) == 1
        assert caches.get(session, "cachedContents/a").gone_at == T0 + 1
    store.close()
