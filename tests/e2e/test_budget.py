"""The spend budget guard end to end: the gateway refuses calls over budget, `gemops watch`
holds files in held/ and sends them when the budget is raised or the next day starts, and
scripts get a clear `Error:`."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from console.bootstrap import make_workspace
from console.services import budget
from console.services.dropfolder import DropFolder
from store.tables import LedgerEntry

MODEL = "gemini-2.5-flash"
DAY = 86_400.0
START = 1_790_000_000.0  # 2026-09-21T14:13:20Z


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def lines(prefix: str, count: int) -> bytes:
    return b"".join(orjson.dumps({"key": f"{prefix}-{i}", "request": {"contents": [
        {"role": "user", "parts": [{"text": f"{prefix} question {i} " + "word " * 200}]}]}})
        + b"\n" for i in range(count))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ws(settings, emulator, clock):
    settings.gemini.base_url = emulator.base_url
    workspace = make_workspace(settings, clock=clock)
    yield workspace
    if workspace.connected:
        workspace.gateway.flush_ledger()
    workspace.close()


def wait_for(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def ledger_rows(ws, **where) -> list[LedgerEntry]:
    ws.gateway.flush_ledger()
    with ws.session() as session:
        query = select(LedgerEntry)
        for key, value in where.items():
            query = query.where(getattr(LedgerEntry, key) == value)
        return list(session.exec(query).scalars())


def test_gateway_refuses_a_call_over_the_daily_budget(ws, clock):
    gateway = ws.gateway
    gateway.run(gateway.generate(MODEL, "first"))  # no budget: goes out
    spent = sum(r.cost for r in ledger_rows(ws))
    assert spent > 0
    ws.settings.budget.daily_usd = spent + 1e-7  # less than any further call
    with pytest.raises(budget.OverBudget) as caught:
        gateway.run(gateway.generate(MODEL, "second"))
    assert "daily budget" in str(caught.value) and caught.value.check.spent == pytest.approx(spent)
    assert len(ledger_rows(ws)) == 1  # nothing was sent
    # The console's "yes, go over": today's limit rises, the call goes out.
    budget.allow_over(ws, 1.0)
    gateway.run(gateway.generate(MODEL, "second"))
    assert budget.spend_gauge(ws)[1] == pytest.approx(spent + 1e-7 + 1.0)
    # Per model (the next day: the allowance was for today only): another model is not held
    # back by this one's limit.
    clock.now += DAY
    ws.settings.budget.daily_usd = None
    ws.settings.budget.per_model = {MODEL: 0.0}
    with pytest.raises(budget.OverBudget, match=f"model {MODEL}"):
        gateway.run(gateway.generate(MODEL, "third"))
    gateway.run(gateway.generate("gemini-2.5-flash-lite", "third"))


def test_watch_holds_a_file_over_budget_and_sends_it_when_the_budget_is_raised(ws, tmp_path):
    root = tmp_path / "drop"
    folder = DropFolder(ws, root)
    folder.ensure_layout()
    ws.settings.budget.daily_usd = 0.0001
    (root / "batch" / "big.jsonl").write_bytes(lines("big", 20))
    drop = folder.process(root / "batch" / "big.jsonl")
    held = root / "held" / "big.jsonl"
    assert drop.step == "validated" and drop.path == str(held) and held.is_file()
    status = json.loads((root / "held" / "big.status.json").read_text())
    assert status["step"] == "held" and "daily budget $0.0001" in status["why"]
    assert status["estimate_usd"] > 0.0001 and status["retry_at"].startswith("2026-09-22")
    assert not ledger_rows(ws, operation="create_batch")

    folder.tick()  # still over: stays held
    wait_for(lambda: folder._pool._work_queue.empty(), "the tick's work")
    time.sleep(0.05)
    assert held.is_file() and not ledger_rows(ws, operation="create_batch")

    ws.settings.budget.daily_usd = 10.0  # raised: the next tick sends it
    folder.tick()
    wait_for(lambda: (root / "submitted" / "big.jsonl").is_file(), "the release")
    wait_for(lambda: (root / "submitted" / "big.status.json").is_file(), "its status")
    assert not (root / "held" / "big.status.json").exists()
    assert len(ledger_rows(ws, operation="create_batch")) == 1
    folder.release()


def test_held_file_goes_out_when_the_next_day_starts(ws, tmp_path, clock):
    gateway = ws.gateway
    for i in range(3):
        gateway.run(gateway.generate(MODEL, f"spend {i} " + "word " * 300))
    spent = sum(r.cost for r in ledger_rows(ws))
    root = tmp_path / "drop"
    folder = DropFolder(ws, root)
    folder.ensure_layout()
    path = root / "standard" / "few.jsonl"
    path.write_bytes(lines("few", 2))
    ws.settings.budget.assumed_output_tokens = 64
    estimate, _ = budget.estimate_file(ws, path, route="standard")
    assert estimate < spent  # today's spend is what tips it over
    ws.settings.budget.daily_usd = spent + estimate / 2
    drop = folder.process(path)
    assert drop.path == str(root / "held" / "few.jsonl")
    clock.now += DAY  # midnight UTC passed: today's spend is 0 again
    folder.tick()
    wait_for(lambda: (root / "results" / "few.jsonl").is_file(), "the answers")
    answered = [json.loads(x) for x in (root / "results" / "few.jsonl").read_text().splitlines()]
    assert [a["status"] for a in answered] == ["ok", "ok"]
    folder.release()


def test_script_gets_a_clear_error(settings, emulator, tmp_path, monkeypatch):
    from console.cli import main

    path = tmp_path / "jobs.jsonl"
    path.write_bytes(lines("cli", 5))
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator.base_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("GEMOPS_BUDGET__DAILY_USD", "0.00001")
    result = CliRunner().invoke(main, ["batches", "submit", str(path)])
    assert result.exit_code == 1, result.output
    assert "Error: over budget: daily budget $0.0000" in result.output
    assert "Traceback" not in result.output


def test_concurrent_file_over_budget_part_way_holds_the_rest_and_resumes_without_resending(
        ws, tmp_path, clock):
    """The gate lets a file through on its estimate, the answers cost more than estimated, and
    the budget runs out part-way: the unanswered rest waits (claimed, journaled, status
    `held`), and a raised budget sends only what had no answer."""
    ws.settings.drop.concurrency = 1  # one request at a time: the crossing point is exact
    ws.settings.budget.assumed_output_tokens = 1  # the estimate misses the answers' length
    gateway = ws.gateway
    probe = gateway.run(gateway.generate(MODEL, "probe question 0 " + "word " * 20))
    root = tmp_path / "drop"
    folder = DropFolder(ws, root)
    folder.ensure_layout()
    path = root / "standard" / "part.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"key": f"part-{i}", "request": {"contents": [
        {"role": "user", "parts": [{"text": f"part question {i} " + "word " * 20}]}]}})
        + b"\n" for i in range(6)))
    estimate, _ = budget.estimate_file(ws, path, route="standard")
    clock.now += DAY  # the probe was yesterday's spend
    ws.settings.budget.daily_usd = probe.cost * 2.5
    assert estimate <= ws.settings.budget.daily_usd < probe.cost * 6  # the gate lets it in

    drop = folder.process(path)
    sent = [r for r in ledger_rows(ws, source="drop")]
    answered = len(sent)
    assert 0 < answered < 6, answered
    submitted = root / "submitted" / "part.jsonl"
    assert drop.step == "running" and drop.path == str(submitted) and submitted.is_file()
    status = json.loads((root / "submitted" / "part.status.json").read_text())
    assert status["step"] == "held" and "daily budget" in status["why"]
    assert status["done_requests"] == answered
    journal = budget_journal(root)
    assert len(journal) == answered and all(b'"status":"ok"' in line for line in journal)
    assert not (root / "results" / "part.jsonl").exists()  # no errors written for the rest

    folder.tick()  # still over: nothing more is sent
    wait_for(lambda: folder._pool._work_queue.empty(), "the tick's work")
    time.sleep(0.05)
    assert len(ledger_rows(ws, source="drop")) == answered

    ws.settings.budget.daily_usd = 10.0
    folder.tick()
    wait_for(lambda: (root / "results" / "part.jsonl").is_file(), "the rest of the answers")
    results = [json.loads(x) for x in (root / "results" / "part.jsonl").read_text().splitlines()]
    assert [r["key"] for r in results] == [f"part-{i}" for i in range(6)]
    assert all(r["status"] == "ok" for r in results)
    rows = ledger_rows(ws, source="drop")
    assert len(rows) == 6 and len({r.request_key for r in rows}) == 6  # none sent twice
    wait_for(lambda: json.loads((root / "submitted" / "part.status.json").read_text())["step"]
             == "done", "the status")
    folder.release()


def budget_journal(root) -> list[bytes]:
    from console.services import batches

    journal = batches.journal_path(root / "results" / "part.jsonl")
    return journal.read_bytes().splitlines() if journal.exists() else []
