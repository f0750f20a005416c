"""Batch jobs end to end through the real SDK against the emulator: submit (file and inline)
exactly once, progress, results keyed in input order with images, ledger rows, cancel, delete."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from console.bootstrap import make_workspace
from console.services import batches
from console.services.sync import sync_once
from store.repos import batches as batch_repo
from store.repos import ledger

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    workspace = make_workspace(settings)
    yield workspace
    if workspace.connected:
        workspace.gateway.flush_ledger()
    workspace.close()


def requests_logged(emulator, operation: str) -> list[dict]:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests",
                     params={"operation": operation}).json()["requests"]
    return [r for r in rows if r["status"] == 200]


def finish(ws, emulator, seconds: float = 60.0) -> list[batches.ResultsWritten]:
    emulator.clock.advance(seconds)
    assert sync_once(ws).error is None
    return batches.collect_finished(ws)


def lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_a_file_is_uploaded_submitted_once_and_its_results_land_keyed(ws, emulator, tmp_path):
    source = tmp_path / "tickets.jsonl"
    source.write_bytes((FIXTURES / "defaults.jsonl").read_bytes())
    seen: list[tuple[int, int]] = []
    outcome = batches.submit_file(ws, source, progress=lambda sent, total: seen.append((sent, total)))
    assert outcome.ok, outcome.errors
    # The defaults header makes a normal form to upload; its progress reached 100 %.
    assert seen[-1][0] == seen[-1][1] > source.stat().st_size
    name = outcome.drop.batch_name
    with ws.session() as session:
        job = batch_repo.get(session, name)
    assert job.state == "JOB_STATE_PENDING" and job.request_count == 4
    assert job.drop_file_id == outcome.drop.id and job.display_name.startswith("tickets gemops:")

    [written] = finish(ws, emulator)
    assert written.ok == 4 and written.failed == 0
    results = lines(tmp_path / "results" / "tickets.jsonl")
    assert [r["key"] for r in results] == ["t-1001", "t-1002", "t-1003", "t-1004"]
    assert all(r["status"] == "ok" and r["text"] and r["usage"]["prompt_tokens"] > 0
               for r in results)
    assert "Can I change the delivery address" in results[1]["text"]  # the emulator echoes
    assert len(requests_logged(emulator, "batchGenerateContent")) == 1
    assert len(requests_logged(emulator, "files.upload")) == 1

    ws.gateway.flush_ledger()
    with ws.session() as session:
        booked = [e for e in ledger.recent(session) if e.operation == "batch_result"]
    assert sorted(e.request_key for e in booked) == [f"{name}/t-100{i}" for i in range(1, 5)]
    assert all(e.batch and e.tier_asked == "batch" for e in booked)
    by_key = {r["key"]: r for r in results}
    for entry in booked:
        key = entry.request_key.rsplit("/", 1)[1]
        assert entry.cost == pytest.approx(by_key[key]["cost"], abs=1e-8)
        assert entry.cost == pytest.approx(entry.standard_cost / 2)  # batch: half price

    # Writing again (a crash before it was recorded) books nothing twice.
    with ws.session() as session:
        batch_repo.annotate(session, name, results_written_at=None)
    batches.collect_finished(ws)
    ws.gateway.flush_ledger()
    with ws.session() as session:
        assert len([e for e in ledger.recent(session) if e.operation == "batch_result"]) == 4


def test_the_same_content_is_not_submitted_twice(ws, emulator, tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    first = batches.submit_file(ws, source)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(source.read_bytes())
    again = batches.submit_file(ws, copy)
    assert first.ok and not again.ok
    assert again.duplicate_of.batch_name == first.drop.batch_name
    deliberate = batches.submit_file(ws, copy, again=True)
    assert deliberate.ok and deliberate.drop.batch_name != first.drop.batch_name
    assert len(requests_logged(emulator, "batchGenerateContent")) == 2


def test_inline_requests_are_matched_by_key_not_position(ws, emulator, tmp_path):
    source = tmp_path / "inline.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    outcome = batches.submit_file(ws, source, inline=True)
    assert outcome.ok
    assert requests_logged(emulator, "files.upload") == []
    # The input is reordered before results come back: each answer must follow its key.
    reordered = source.read_text().splitlines()
    source.write_text("\n".join([reordered[2], reordered[0], reordered[3], reordered[1]]) + "\n")
    finish(ws, emulator)
    results = lines(tmp_path / "results" / "inline.jsonl")
    assert [r["key"] for r in results] == ["shipping", "greeting", "json-answer", "refund-policy"]
    assert "How long does standard shipping take" in results[0]["text"]
    assert "Say hello to a new customer" in results[1]["text"]
    assert "Summarise our refund policy" in results[3]["text"]


def test_image_results_are_saved_as_files(ws, emulator, tmp_path):
    source = tmp_path / "art.jsonl"
    source.write_bytes((FIXTURES / "images.jsonl").read_bytes())
    outcome = batches.submit_file(ws, source)
    assert outcome.ok, outcome.errors
    finish(ws, emulator)
    results = lines(tmp_path / "results" / "art.jsonl")
    assert [r["images"] for r in results] == [["art/cat-1.png"], ["art/logo-1.png"]]
    for result in results:
        image = tmp_path / "results" / result["images"][0]
        assert image.read_bytes().startswith(PNG)
        assert result["usage"]["images"] == 1 and result["cost"] > 0
        assert result["model"] == "gemini-2.5-flash-image"
    # The bytes live in files, not as base64 in the results.
    assert "inlineData" not in (tmp_path / "results" / "art.jsonl").read_text()


@pytest.mark.parametrize("emulator_config", [{"batch": {"fail_rate": 1.0}}], indirect=True)
def test_a_failed_job_still_gives_one_line_per_key(ws, emulator, tmp_path):
    source = tmp_path / "doomed.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    outcome = batches.submit_file(ws, source)
    [written] = finish(ws, emulator)
    assert written.state == "JOB_STATE_FAILED" and written.failed == 4
    results = lines(tmp_path / "results" / "doomed.jsonl")
    assert [r["key"] for r in results] == ["greeting", "refund-policy", "shipping", "json-answer"]
    assert all(r["status"] == "error" and "failed" in r["error"]["message"] for r in results)
    with ws.session() as session:
        from store.repos import drops

        assert drops.get(session, outcome.drop.id).step == "failed"


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 100.0}}], indirect=True)
def test_progress_stuck_and_expired_flags_and_cancel_and_delete(ws, emulator, tmp_path):
    ws.settings.sync.stuck_pending_s = 30.0
    source = tmp_path / "slow.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    name = batches.submit_file(ws, source).drop.batch_name
    assert sync_once(ws).error is None
    [view] = batches.job_views(ws)
    assert view.job.state == "JOB_STATE_PENDING" and not view.stuck
    ws.clock = lambda: view.job.state_since + 31.0
    [view] = batches.job_views(ws)
    assert view.stuck and view.in_state_s == pytest.approx(31.0)

    job = batches.cancel_job(ws, name)
    assert job.state == "JOB_STATE_CANCELLED"
    results = lines(tmp_path / "results" / "slow.jsonl")  # written at once: every key, an error
    assert len(results) == 4 and all("cancelled" in r["error"]["message"] for r in results)

    batches.delete_job(ws, name)
    assert batches.job_views(ws) == []
    assert [v.name for v in batches.job_views(ws, include_gone=True)] == [name]
    assert len(requests_logged(emulator, "batches.delete")) == 1


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 10.0, "expiry_s": 5.0}}],
                         indirect=True)
def test_an_expired_job_is_flagged(ws, emulator, tmp_path):
    source = tmp_path / "late.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    batches.submit_file(ws, source)
    emulator.clock.advance(6.0)
    assert sync_once(ws).error is None
    [view] = batches.job_views(ws)
    assert view.expired and view.job.state == "JOB_STATE_EXPIRED"


def test_the_batches_commands(settings, emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator.base_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    from console.cli import main

    runner = CliRunner()
    bad = runner.invoke(main, ["batches", "validate", str(FIXTURES / "malformed.jsonl")])
    assert bad.exit_code == 1 and "malformed.jsonl:4: config.temperature:" in bad.output
    good = runner.invoke(main, ["batches", "validate", str(FIXTURES / "valid.jsonl")])
    assert good.exit_code == 0

    source = tmp_path / "cli.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    submitted = runner.invoke(main, ["batches", "submit", str(source)])
    assert submitted.exit_code == 0, submitted.output
    name = re.search(r"submitted (batches/\w+)", submitted.output).group(1)
    again = runner.invoke(main, ["batches", "submit", str(source)])
    assert again.exit_code == 1 and "already submitted" in again.output

    emulator.clock.advance(60)
    collected = runner.invoke(main, ["batches", "collect"])
    assert collected.exit_code == 0 and "4 ok, 0 failed" in collected.output
    listed = runner.invoke(main, ["batches", "list", "--json"])
    [row] = orjson.loads(listed.output)
    assert row["name"] == name and row["state"] == "JOB_STATE_SUCCEEDED"
    assert row["results_written"] and row["drop_file"] == "cli"
    deleted = runner.invoke(main, ["batches", "delete", name], input="n\n")
    assert deleted.exit_code == 1  # not confirmed: aborted, nothing deleted
    assert requests_logged(emulator, "batches.delete") == []


def test_batch_results_become_sanitized_interactions_when_logging_is_on(ws, emulator, tmp_path):
    from console.services.interactions import recent_interactions

    ws.settings.logging.enabled = True
    source = tmp_path / "support.jsonl"
    source.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in [
        {"key": "a", "prompt": "Customer alice@example.com asks where her parcel is.",
         "config": {"system_instruction": "You are support. Escalate to bob@example.com."}},
        {"key": "b", "prompt": "Call me on +1 415 555 0100 about my refund."},
    ]))
    batches.submit_file(ws, source)
    finish(ws, emulator)
    logged = recent_interactions(ws)
    assert len(logged) == 2
    assert {(i.tier, i.source, i.model) for i in logged} == {("batch", "batch",
                                                              "gemini-2.5-flash")}
    text = " ".join(i.contents_json + (i.system_instruction or "") for i in logged)
    assert "alice@example.com" not in text and "bob@example.com" not in text
    assert "555 0100" not in text and "[EMAIL" in text
    assert all(i.response_text and i.cost > 0 for i in logged)
