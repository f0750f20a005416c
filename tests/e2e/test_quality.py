"""The judge end to end: real SDK calls through the gateway to the emulator, interaction
logging, sampling every Nth answer per (source, labels), scores in SQLite, and the alert."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from sqlalchemy import select

from console.bootstrap import make_workspace
from console.emulator import structured
from console.services import quality
from console.services.interactions import flush_interactions, logging_run
from console.services.pricing import PriceTable, Usage, call_cost
from store.repos import interactions as interaction_repo
from store.tables import LedgerEntry, QualityScoreRow

MODEL = "gemini-2.5-flash"


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.logging.enabled = True
    settings.quality.sample_every = 3
    workspace = make_workspace(settings)
    yield workspace
    if workspace.connected:
        workspace.gateway.flush_ledger()
    workspace.close()


def ask(ws, n: int, *, prefix: str, labels: dict[str, str] | None = None,
        source: str = "console") -> None:
    gateway = ws.gateway
    with logging_run(ws, labels=labels or {}):
        for i in range(n):
            gateway.run(gateway.generate(MODEL, f"{prefix} question {i}: what is 2+{i}? "
                                         f"Mail me at ann{i}@example.com", source=source))
    flush_interactions(ws)


def expected_verdict(ws, interaction_id: int) -> dict:
    """What the emulator's judge answers: computable from the redacted text alone."""
    with ws.session() as session:
        interaction = interaction_repo.get(session, interaction_id)
    return structured.value_for(quality.JUDGE_SCHEMA, quality.judge_prompt(interaction))


def scores(ws) -> list[QualityScoreRow]:
    with ws.session() as session:
        return list(session.exec(select(QualityScoreRow).order_by(QualityScoreRow.id)).scalars())


def test_every_nth_answer_per_source_and_label_is_judged_and_stored(ws):
    ask(ws, 7, prefix="alpha", labels={"team": "a"})
    ask(ws, 4, prefix="beta", labels={"team": "b"})
    ask(ws, 3, prefix="gamma", labels={"team": "a"}, source="drop")
    first = quality.judge_new(ws)
    # team=a/console: 7 answers -> the 3rd and 6th; team=b: 4 -> the 3rd; drop: 3 -> the 3rd.
    assert (first.seen, first.sampled, first.judged, first.failed) == (14, 4, 4, 0)
    ask(ws, 2, prefix="alpha-more", labels={"team": "a"})  # the 8th and 9th of team=a
    second = quality.judge_new(ws)
    assert (second.seen, second.sampled, second.judged) == (2, 1, 1)
    assert quality.judge_new(ws).sampled == 0  # nothing new: nothing judged twice

    rows = scores(ws)
    assert len(rows) == 5 and all(r.status == "scored" for r in rows)
    with ws.session() as session:
        logged = interaction_repo.page(session, None, limit=100)
    by_id = {i.id: i for i in logged}
    assert {by_id[r.interaction_id].response_text for r in rows}  # beside the interaction
    assert sorted((r.source, r.labels) for r in rows) == [
        ("console", "team=a"), ("console", "team=a"), ("console", "team=a"),
        ("console", "team=b"), ("drop", "team=a")]
    for row in rows:
        want = expected_verdict(ws, row.interaction_id)
        assert (row.accuracy, row.tone, row.hallucination, row.reason) == (
            want["accuracy"], want["tone"], want["hallucination"], want["reason"])
        # The judge only ever saw redacted text.
        assert "@example.com" not in quality.judge_prompt(by_id[row.interaction_id])
        assert row.judge_model == ws.settings.quality.judge_model and row.cost > 0
    # Judge calls: through the gateway, on flex, source judge, not logged as interactions.
    ws.gateway.flush_ledger()
    with ws.session() as session:
        judge_calls = list(session.exec(
            select(LedgerEntry).where(LedgerEntry.source == "judge")).scalars())
    assert len(judge_calls) == 5
    assert {(c.tier_asked, c.model) for c in judge_calls} == {
        ("flex", ws.settings.quality.judge_model)}
    assert all(i.source != "judge" for i in logged) and len(logged) == 16

    report = quality.quality_report(ws, labels=quality.parse_labels(["team=a"]))
    assert report.judged == 4
    for fmt in ("table", "markdown", "json"):
        assert "team=a" in quality.render_report(report, fmt)
    _cost_per_thousand(judge_calls, ws)


def _cost_per_thousand(calls, ws) -> None:
    """The judge's typical tokens on the emulator, priced for 1,000 judged answers on flex."""
    prompt = sum(c.prompt_tokens for c in calls) / len(calls)
    output = sum(c.candidate_tokens + c.thought_tokens for c in calls) / len(calls)
    usage = Usage(prompt_tokens=round(prompt), output_tokens=round(output))
    table = PriceTable.default()
    flex = call_cost(table, ws.settings.quality.judge_model, usage, tier="flex").cost * 1000
    std = call_cost(table, ws.settings.quality.judge_model, usage, tier="standard").cost * 1000
    print(f"\njudge: {prompt:.0f} prompt + {output:.0f} output tokens per answer; "
          f"${flex:.4f} per 1,000 judged on flex (${std:.4f} standard)", file=sys.stderr)
    assert flex == pytest.approx(std / 2)


def test_alert_fires_once_when_the_rate_crosses_the_threshold(ws, tmp_path, receiver, caplog):
    marker = tmp_path / "alert.json"
    q = ws.settings.quality
    q.sample_every = 1
    q.alert_min_judged = 1
    q.alert_url = receiver.url
    q.alert_command = f"cat > {marker}"
    # Answer by answer: the alert must fire on exactly the pass where the expected
    # hallucination rate first goes over the threshold, and only then.
    q.alert_hallucination_rate = 0.3
    judged = bad = 0
    fired_at = None
    alerts = []
    with caplog.at_level(logging.WARNING, logger="console.services.quality"):
        for i in range(30):
            ask(ws, 1, prefix=f"alert-{i}")
            tick = quality.judge_new(ws)
            [row] = [r for r in scores(ws) if r.id == max(r.id for r in scores(ws))]
            judged += 1
            bad += expected_verdict(ws, row.interaction_id)["hallucination"]
            over = bad / judged > q.alert_hallucination_rate
            if tick.alert is not None:
                alerts.append(i)
            if over and fired_at is None:
                fired_at = i
                assert tick.alert is not None, f"no alert at {bad}/{judged}"
                assert tick.alert.rate == pytest.approx(bad / judged)
            if fired_at is not None and over:
                continue
            if not over:
                assert tick.alert is None
    assert fired_at is not None, "the emulator's judge never crossed the threshold"
    assert alerts[0] == fired_at
    # The console flash, the app log, the command and the webhook.
    texts = quality.take_alerts(ws)
    assert texts and "hallucination rate" in texts[0]
    assert any("quality alert" in r.getMessage() for r in caplog.records)
    sent = json.loads(marker.read_text())
    assert sent["event"] == "quality.hallucination_rate" and sent["threshold"] == 0.3
    received = receiver.wait(1)
    assert json.loads(received[0]["body"])["judged"] == sent["judged"]


FAST_BATCH = {"batch": {"pending_s": 0.0, "per_request_s": 0.0}}


@pytest.mark.parametrize("emulator_config", [FAST_BATCH], indirect=True)
def test_batch_judging_submits_one_inline_job_and_stores_verdicts_when_sync_sees_it_end(ws):
    import time

    from console.services.batches import collect_finished
    from console.services.sync import sync_once

    ws.settings.quality.judge_tier = "batch"
    ask(ws, 7, prefix="batch", labels={"team": "a"})
    first = quality.judge_new(ws)
    assert (first.seen, first.sampled, first.judged) == (7, 2, 0)
    rows = scores(ws)
    assert [r.status for r in rows] == ["batched", "batched"]
    [job] = quality.judge_jobs(ws)
    ws.gateway.flush_ledger()
    with ws.session() as session:
        judge_calls = list(session.exec(
            select(LedgerEntry).where(LedgerEntry.source == "judge")).scalars())
        creates = list(session.exec(
            select(LedgerEntry).where(LedgerEntry.operation == "create_batch")).scalars())
    assert judge_calls == [] and len(creates) == 1  # no flex calls: one batch job

    deadline = time.monotonic() + 10
    while any(r.status == "batched" for r in scores(ws)):
        assert time.monotonic() < deadline, "the judge job never ended"
        sync_once(ws)
        collect_finished(ws)  # the hook the console's sync tick and the watcher call
        time.sleep(0.05)
    assert quality.judge_jobs(ws) == []
    rows = scores(ws)
    assert all(r.status == "scored" and r.judge_tier == "batch" for r in rows)
    for row in rows:
        want = expected_verdict(ws, row.interaction_id)
        assert (row.accuracy, row.tone, row.hallucination, row.reason) == (
            want["accuracy"], want["tone"], want["hallucination"], want["reason"])
    ws.gateway.flush_ledger()
    with ws.session() as session:
        booked = list(session.exec(
            select(LedgerEntry).where(LedgerEntry.source == "judge")).scalars())
    assert len(booked) == 2 and {(b.operation, b.tier_asked) for b in booked} == {
        ("batch_result", "batch")}
    assert sorted(r.cost for r in rows) == pytest.approx(sorted(b.cost for b in booked))
    for b in booked:  # half the standard price
        assert b.cost == pytest.approx(b.standard_cost / 2) and b.cost > 0
    # Collected once: another sync books nothing twice.
    sync_once(ws)
    collect_finished(ws)
    ws.gateway.flush_ledger()
    with ws.session() as session:
        again = list(session.exec(
            select(LedgerEntry).where(LedgerEntry.source == "judge")).scalars())
    assert len(again) == 2
    assert quality.judge_new(ws).sampled == 0 and quality.judge_jobs(ws) == []
    report = quality.quality_report(ws)
    assert report.judged == 2 and report.judge_tier == "batch"
