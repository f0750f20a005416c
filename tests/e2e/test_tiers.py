"""The tier tester against the emulator through the real SDK: the tables reflect the tier
latency profiles, flex shedding and priority downgrades; stops keep what was measured."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from console.bootstrap import make_workspace
from console.commands.tiers import tiers
from console.services.tiers import (
    PlanError,
    TierPlan,
    load_report,
    past_runs,
    run_tier_test,
    summary_cells,
)
from console.settings import LimitSpec
from store.repos import ledger

MODEL = "gemini-2.5-flash"
PROFILES = {
    "tier_latency": {
        "priority": {"base_s": 0.05, "jitter_s": 0.002},
        "standard": {"base_s": 0.07, "jitter_s": 0.04},
        "flex": {"base_s": 0.10, "jitter_s": 0.08},
    },
    "flex_shed_rate": 0.3,
}


def connect(settings, emulator, **kwargs):
    settings.gemini.base_url = emulator.base_url
    # Client-side pacing would add waits of its own to calls this short; the tier test is
    # about the tiers, so the client's limits sit far above the run.
    settings.limits.models[MODEL] = LimitSpec(rpm=60_000, tpm=100_000_000)
    return make_workspace(settings, **kwargs)


@pytest.fixture
def ws_for(settings):
    made = []

    def build(emulator, **kwargs):
        made.append(connect(settings, emulator, **kwargs))
        return made[-1]

    yield build
    for ws in made:
        ws.close()


def plan(settings, **overrides) -> TierPlan:
    values = {"prompt": "Explain Gemini service tiers in one paragraph.", "runs_per_tier": 5}
    return TierPlan.from_settings(settings, **(values | overrides))


@pytest.mark.parametrize("emulator_config", [PROFILES | {"seed": 11}], indirect=True)
def test_tables_reflect_the_tier_profiles_and_flex_shedding(settings, emulator, ws_for):
    ws = ws_for(emulator)
    arrived = []
    report = run_tier_test(ws, plan(settings), on_sample=arrived.append)

    assert report.run.status == "finished" and report.done == 15
    assert [e.done for e in arrived] == list(range(1, 16))  # each sample reported as it landed
    flex, standard, priority = report.summaries
    # Priority's profile has 2 ms of jitter, standard's 40, flex's 80.
    assert report.marks.steadiest == "priority" and report.marks.fastest == "priority"
    assert priority.spread_ms < standard.spread_ms
    assert priority.avg_ms < standard.avg_ms < flex.avg_ms
    # Flex shedding is counted, never hidden: a 503 sample per shed call, excluded from latency.
    shed = [s for s in report.samples if s.tier_asked == "flex" and not s.ok]
    assert flex.shed == len(shed) >= 1 and all(s.status == 503 for s in shed)
    assert flex.ok == 5 - flex.shed
    assert report.marks.cheapest == "flex" and flex.cost_vs_standard == pytest.approx(-0.5)
    assert priority.cost_vs_standard == pytest.approx(0.8)
    assert f"{flex.shed}/5 shed" in report.recommendation[0]
    assert all(s.tier_served == s.tier_asked for s in report.samples if s.ok)
    # Wall time covers at least the HTTP exchange it contains.
    assert all(s.latency_ms >= s.api_latency_ms for s in report.samples if s.ok)
    # Every call is in the ledger too, the 503s included, keyed back to its sample.
    with ws.session() as session:
        rows = [r for r in ledger.recent(session, limit=100) if r.operation == "generate"]
    assert len(rows) == 15 and sum(r.status == 503 for r in rows) == flex.shed
    assert {r.request_key for r in rows} == {
        f"tiers:{report.run.id}:{s.tier_asked}:{s.seq}" for s in report.samples
    }


@pytest.mark.parametrize(
    "emulator_config",
    [{"quotas": {MODEL: {"rpm": 20}}, "priority_limit_fraction": 0.15}],
    indirect=True,
)
def test_a_priority_downgrade_shows_as_a_failover(settings, emulator, ws_for):
    ws = ws_for(emulator)
    report = run_tier_test(ws, plan(settings, tiers="standard,priority"))

    standard, priority = report.summaries
    # 20 RPM × 0.15: three priority calls a minute, the rest served (and billed) as standard.
    served = {s.seq: s.tier_served for s in report.samples if s.tier_asked == "priority"}
    assert served == {1: "priority", 2: "priority", 3: "priority", 4: "standard", 5: "standard"}
    assert priority.failovers == 2 and standard.failovers == 0
    assert priority.cost_vs_standard == pytest.approx((3 * 1.8 + 2) / 5 - 1)
    assert "2/5 downgraded to standard" in report.recommendation[0]


@pytest.mark.parametrize("emulator_config", [{"flex_shed_rate": 1.0}], indirect=True)
def test_retry_flex_tries_again_and_records_every_attempt(settings, emulator, ws_for):
    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    ws = ws_for(emulator, sleep=no_wait)
    report = run_tier_test(ws, plan(settings, runs_per_tier=2, retry_flex=True))

    flex = [s for s in report.samples if s.tier_asked == "flex"]
    assert [(s.ok, s.status, s.attempts) for s in flex] == [(False, 503, 4), (False, 503, 4)]
    assert all(s.attempts == 1 for s in report.samples if s.tier_asked != "flex")
    assert "2/2 shed, 6 retries — unusable right now" in report.recommendation[0]
    assert summary_cells(report)[0]["errors"] == "2×503 +6 retried"


@pytest.mark.parametrize(
    "emulator_config", [{"tier_latency": {"standard": {"base_s": 0.6}}}], indirect=True
)
def test_a_timeout_is_recorded_as_a_failed_sample(settings, emulator, ws_for):
    ws = ws_for(emulator)
    report = run_tier_test(ws, plan(settings, tiers="standard", runs_per_tier=1,
                                    timeouts={"standard": 0.2}))
    [sample] = report.samples
    assert (sample.ok, sample.status, sample.error) == (False, 0, "timed out after 0.2 s")
    assert report.summaries[0].failures == (("timeout", 1),)


@pytest.mark.parametrize(
    "emulator_config",
    [{"tier_latency": {t: {"base_s": 0.15} for t in ("flex", "standard", "priority")}}],
    indirect=True,
)
def test_stopping_mid_run_keeps_the_completed_samples(settings, emulator, ws_for):
    ws = ws_for(emulator)
    stop = threading.Event()

    def on_sample(event) -> None:
        if event.done == 3:
            stop.set()  # what the pane's x key (or quitting) does

    report = run_tier_test(ws, plan(settings), on_sample=on_sample, stop=stop)

    assert report.run.status == "interrupted" and report.run.note == "stopped by the user"
    assert 3 <= report.done < 15 and report.run.finished_at is not None
    assert load_report(ws, report.run.id).done == report.done  # it is all in SQLite


@pytest.mark.parametrize(
    "emulator_config",
    [{"tier_latency": {t: {"base_s": 0.1} for t in ("flex", "standard", "priority")}}],
    indirect=True,
)
def test_concurrency_overlaps_calls_and_keeps_every_sample(settings, emulator, ws_for):
    ws = ws_for(emulator)
    report = run_tier_test(ws, plan(settings, runs_per_tier=3, concurrency=3, order="grouped"))

    assert report.run.status == "finished" and report.run.concurrency == 3
    assert sorted((s.tier_asked, s.seq) for s in report.samples) == sorted(
        (t, n) for t in ("flex", "standard", "priority") for n in (1, 2, 3)
    )
    # Overlap as the emulator saw it (calls in flight as each arrived), not a wall-clock
    # bound a loaded machine can break: some calls overlapped, never more than three.
    calls = emulator.state.log.query(operation="generateContent")
    assert len(calls) == 9  # one per sample
    assert 2 <= max(c["in_flight"] for c in calls) <= 3


def test_a_model_the_api_does_not_know_fails_before_the_run(settings, emulator, ws_for):
    ws = ws_for(emulator)
    with pytest.raises(PlanError, match="gemini-nope"):
        run_tier_test(ws, plan(settings, model="gemini-nope"))
    assert past_runs(ws) == []


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def cli_env(settings, emulator, monkeypatch):
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator.base_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    monkeypatch.setenv("GEMOPS_LIMITS__MODELS", json.dumps(
        {MODEL: {"rpm": 60_000, "tpm": 100_000_000}}))
    return emulator


def invoke(*args: str):
    return CliRunner().invoke(tiers, list(args), catch_exceptions=False)


def test_command_prints_the_two_tables_in_every_format(cli_env):
    table = invoke("--prompt", "hi", "--runs", "2", "--tiers", "standard,priority")
    assert table.exit_code == 0, table.output
    assert "Tier      OK" in table.stdout and "Latency (wall)" in table.stdout
    assert "[4/4] " in table.stderr  # progress goes to stderr, the tables to stdout
    assert "Recommendation:" in table.stdout

    as_json = invoke("--prompt", "hi", "--runs", "2", "--format", "json", "-q")
    body = json.loads(as_json.stdout)
    assert [s["tier"] for s in body["summary"]] == ["flex", "standard", "priority"]
    assert len(body["runs"]) == 6 and as_json.stderr == ""

    markdown = invoke("--prompt", "hi", "--runs", "1", "--format", "markdown", "-q",
                      "--only", "runs")
    assert markdown.stdout.count("\n| ") == 4 and "| Tier | Run | OK |" in markdown.stdout

    csv_out = invoke("--prompt", "hi", "--runs", "1", "--format", "csv", "-q")
    summary, runs = csv_out.stdout.split("\n\n")
    assert summary.startswith("tier,samples,ok,avg_ms") and len(runs.splitlines()) == 4

    listed = invoke("list", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [4, 3, 2, 1]
    shown = invoke("show", "2", "--format", "json")
    assert json.loads(shown.stdout)["run"]["id"] == 2
    compared = invoke("compare", "1", "2")
    assert "A = tier run #1" in compared.stdout and "Δ avg" in compared.stdout
    assert invoke("delete", "1", "--yes").stdout == "deleted tier run #1\n"
    assert invoke("show", "1").exit_code == 1


def test_command_refuses_bad_input_clearly(cli_env):
    nothing = invoke()
    assert nothing.exit_code == 2 and "give --prompt or --prompt-file" in nothing.stderr
    zero = invoke("--prompt", "hi", "--runs", "0")
    assert zero.exit_code == 2 and "runs per tier must be 1–1000 (got 0)" in zero.stderr
    missing = invoke("--prompt-file", "/nonexistent/prompt.txt")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


@pytest.mark.parametrize(
    "emulator_config",
    [{"tier_latency": {t: {"base_s": 0.2} for t in ("flex", "standard", "priority")}}],
    indirect=True,
)
def test_ctrl_c_keeps_the_completed_samples(cli_env, settings):
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "tiers", "--prompt", "hi", "--runs", "5",
         "--only", "summary"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    progress = 0
    while progress < 2:
        line = process.stderr.readline()
        assert line, "the command ended before it was interrupted"
        progress += line.startswith("[")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)

    assert process.returncode == 130, err
    assert "interrupted (Ctrl+C)" in out  # the partial tables are printed
    ws = make_workspace(settings)
    try:
        report = load_report(ws, 1)
    finally:
        ws.close()
    assert report.run.status == "interrupted" and 2 <= report.done < 15
    assert f"interrupted: {report.done} of 15 samples kept in tier run #1" in err
