"""Tier runs in SQLite: samples kept one by one, counted, deleted with their run, and runs left
"running" by a dead process settled as interrupted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import IntegrityError

from console.bootstrap import make_workspace
from console.services.tiers import delete_run, load_report, past_runs, settle_abandoned
from store.repos import tiers as repo

NOW = 1_790_000_000.0


@pytest.fixture
def ws(settings):
    clock = {"now": NOW}
    workspace = make_workspace(settings, clock=lambda: clock["now"])
    workspace.test_clock = clock
    yield workspace
    workspace.close()


def new_run(ws, **overrides):
    values = {"created_at": ws.clock(), "model": "gemini-2.5-flash", "prompt": "hi",
              "tiers": "standard,priority", "runs_per_tier": 2,
              "timeouts": json.dumps({"standard": 60, "priority": 60})} | overrides
    with ws.session() as session:
        return repo.create_run(session, values)


def add(ws, run_id, tier, seq, ok=True, at=NOW):
    with ws.session() as session:
        return repo.add_sample(session, {
            "run_id": run_id, "tier_asked": tier, "seq": seq, "ok": ok,
            "status": 200 if ok else 503, "latency_ms": 100.0 * seq, "at": at,
            "tier_served": tier if ok else None, "cost": 0.001 if ok else 0.0,
            "standard_cost": 0.001 if ok else 0.0,
        })


def test_samples_are_kept_one_by_one_and_counted(ws):
    run = new_run(ws)
    assert run.status == "running" and run.finished_at is None
    first = add(ws, run.id, "standard", 1)
    assert first.run_id == run.id and first.attempts == 1 and first.api_latency_ms is None
    add(ws, run.id, "priority", 1)
    add(ws, run.id, "standard", 2, ok=False)
    [listed] = past_runs(ws)
    assert (listed.done, listed.ok, listed.total) == (3, 2, 4)
    report = load_report(ws, run.id)
    assert [s.seq for s in report.samples] == [1, 1, 2]
    assert report.summaries[0].shed == 1


def test_a_run_holds_each_tier_and_run_number_once(ws):
    run = new_run(ws)
    add(ws, run.id, "standard", 1)
    with pytest.raises(IntegrityError):
        add(ws, run.id, "standard", 1)


def test_deleting_a_run_deletes_its_samples(ws):
    run = new_run(ws)
    add(ws, run.id, "standard", 1)
    assert delete_run(ws, run.id) is True
    assert delete_run(ws, run.id) is False
    with ws.session() as session:
        assert repo.samples(session, run.id) == []
    with pytest.raises(LookupError, match="no tier run #"):
        load_report(ws, run.id)


def test_a_run_left_running_by_a_dead_process_is_settled_as_interrupted(ws):
    stale = new_run(ws)
    add(ws, stale.id, "standard", 1, at=NOW + 5)
    ws.test_clock["now"] = NOW + 5 + 60 + 60 + 1  # past its longest timeout plus the margin
    alive = new_run(ws)  # started just now: still running
    assert settle_abandoned(ws) == 1
    with ws.session() as session:
        settled = repo.get_run(session, stale.id)
        assert (settled.status, settled.finished_at) == ("interrupted", NOW + 5)
        assert "abandoned" in settled.note
        assert repo.get_run(session, alive.id).status == "running"
