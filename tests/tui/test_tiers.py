"""The tier tester pane: start a run from the form, watch samples arrive, read the tables;
stop or quit mid-run and keep what was measured; past runs opened, compared and deleted."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise

import pytest

from console.bootstrap import make_app
from console.settings import LimitSpec
from console.tui.screens.tiers import SAMPLE_DRAW_S, RunFinished, SamplesIn
from store.repos import tiers as repo
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle

MODEL = "gemini-2.5-flash"
FAST = {"tier_latency": {
    "priority": {"base_s": 0.02, "jitter_s": 0.002},
    "standard": {"base_s": 0.03, "jitter_s": 0.01},
    "flex": {"base_s": 0.05, "jitter_s": 0.04},
}}
SLOW = {"tier_latency": {t: {"base_s": 0.12} for t in ("flex", "standard", "priority")}}


@pytest.fixture
def live_app(settings, frozen_clock, workspace, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.limits.models[MODEL] = LimitSpec(rpm=60_000, tpm=100_000_000)
    return make_app(settings, clock=frozen_clock, workspace=workspace, connect=False, sync=False)


async def open_form(pilot, *, prompt: str, runs: int, tiers: tuple[str, ...] | None = None):
    await pilot.press("4")
    await settle(pilot)
    await pilot.press("n")
    await pilot.pause()
    form = pilot.app.screen
    await pilot.press(*prompt)
    form.query_one("#runs").value = str(runs)
    for tier in ("flex", "standard", "priority"):
        if tiers is not None:
            form.query_one(f"#tier-{tier}").value = tier in tiers
    return form


def stored_run(workspace, run_id: int = 1):
    with workspace.session() as session:
        return repo.get_run(session, run_id), repo.samples(session, run_id)


async def wait_for(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
async def test_start_a_run_watch_rows_arrive_and_read_the_summary(live_app, workspace):
    asked: set[int] = set()
    finished: list = []

    def watch(message) -> None:
        # Called as each message is handled (the hook may see a message more than once).
        if isinstance(message, SamplesIn):
            asked.add(id(message))
        elif isinstance(message, RunFinished):
            finished.append(message)

    async with live_app.run_test(size=(120, 40), message_hook=watch) as pilot:
        await open_form(pilot, prompt="Say hi", runs=3)
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        screen = pilot.app.screen
        samples = screen.query_one("#samples")

        # Samples reach the pane in batches: one message waits at a time (never one per
        # sample), and the pane draws at most every SAMPLE_DRAW_S while the run goes on.
        draws = screen.sample_draws
        assert 1 <= len(draws) <= len(asked) <= 9
        assert all(b - a >= SAMPLE_DRAW_S * 0.95 for a, b in pairwise(draws))
        assert finished and samples.row_count == 9
        summary = screen.query_one("#summary")
        assert [str(summary.get_row_at(i)[0]) for i in range(3)] == [
            "flex", "standard", "priority"
        ]
        assert str(summary.get_row_at(1)[10]) == "baseline"
        assert "finished: 9/9 samples" in screen.query_one("#run-status").render().plain
        assert screen.query_one("#recommendation").render().plain.startswith("flex: 50 % cheaper")
        # The breakdown ends sorted by tier and run, as published.
        assert [(str(samples.get_row_at(i)[0]), str(samples.get_row_at(i)[1]))
                for i in range(3)] == [("flex", "1"), ("flex", "2"), ("flex", "3")]
        assert screen.query_one("#runs").row_count == 1
    run, stored = stored_run(workspace)
    assert run.status == "finished" and len(stored) == 9 and run.prompt == "Say hi"


async def test_the_form_explains_bad_input_and_keeps_what_was_typed(offline_app, workspace):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot, prompt="Keep me", runs=0)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is form
        assert "runs per tier must be 1–1000 (got 0)" in form.query_one(
            "#form-error").render().plain
        assert form.query_one("#prompt").text == "Keep me"
        form.query_one("#runs").value = "2"
        for tier in ("flex", "standard", "priority"):
            form.query_one(f"#tier-{tier}").value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "choose at least one tier" in form.query_one("#form-error").render().plain
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is not form
    with workspace.session() as session:
        assert repo.recent(session) == []


@pytest.mark.parametrize("emulator_config", [SLOW], indirect=True)
async def test_quitting_mid_run_keeps_the_completed_samples(live_app, workspace):
    async with live_app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot, prompt="Say hi", runs=5)
        await pilot.press("ctrl+s")
        samples = pilot.app.screen.query_one("#samples")
        await wait_for(lambda: samples.row_count >= 2)
        await pilot.press("q")
    # The run's thread saw the console quit, gave up its call in flight and closed the run.
    await wait_for(lambda: stored_run(workspace)[0].status != "running")
    run, stored = stored_run(workspace)
    assert run.status == "interrupted" and run.finished_at is not None
    assert 2 <= len(stored) < 15 and all(s.ok for s in stored)


@pytest.mark.parametrize("emulator_config", [SLOW], indirect=True)
async def test_x_stops_the_run_and_the_pane_says_so(live_app, workspace):
    async with live_app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot, prompt="Say hi", runs=5, tiers=("standard",))
        await pilot.press("ctrl+s")
        screen = pilot.app.screen
        await wait_for(lambda: screen.query_one("#samples").row_count >= 1)
        await pilot.press("x")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        status = screen.query_one("#run-status").render().plain
        assert status.startswith("interrupted (stopped by the user):")
        run, stored = stored_run(workspace)
        assert run.status == "interrupted" and 1 <= len(stored) < 5
        assert f"{len(stored)}/{len(stored)}/5" in str(screen.query_one("#runs").get_row_at(0)[8])


# -- stored runs: the snapshot, opening, comparing, deleting --------------------------------

PUBLISHED = {  # seconds, shaped like the published 5-run comparison on gemini-2.5-flash
    "flex": [2.05, 4.72, 3.10, None, 2.73],
    "standard": [2.31, 3.12, 2.44, 1.62, 3.41],
    "priority": [2.09, 2.31, 2.18, 2.51, 2.06],
}


def seed_run(workspace, *, started: float, scale: float = 1.0, downgrade: tuple = ()) -> int:
    prices = {"flex": 0.5, "standard": 1.0, "priority": 1.8}
    with workspace.session() as session:
        run = repo.create_run(session, {
            "created_at": started, "finished_at": started + 60, "model": MODEL,
            "prompt": "Explain the difference between Gemini's service tiers in one paragraph.",
            "status": "finished",
            "timeouts": json.dumps({"flex": 900, "standard": 60, "priority": 60}),
        })
        for seq in range(1, 6):
            for tier, figures in PUBLISHED.items():
                seconds = figures[seq - 1]
                served = "standard" if (tier, seq) in downgrade else tier
                standard_cost = 0.00124
                values = {"run_id": run.id, "tier_asked": tier, "seq": seq, "at": started + seq}
                if seconds is None:
                    values |= {"ok": False, "status": 503, "latency_ms": 180.0,
                               "error": "503 shed: The model is overloaded."}
                else:
                    values |= {
                        "ok": True, "status": 200, "tier_served": served,
                        "latency_ms": seconds * 1000 * scale,
                        "api_latency_ms": seconds * 1000 * scale - 12,
                        "prompt_tokens": 18, "output_tokens": 402, "thought_tokens": 87,
                        "total_tokens": 507, "standard_cost": standard_cost,
                        "cost": standard_cost * prices[served],
                    }
                repo.add_sample(session, values)
        return run.id


@pytest.fixture
def two_runs(workspace):
    seed_run(workspace, started=FROZEN_NOW - 7200, scale=1.2)
    seed_run(workspace, started=FROZEN_NOW - 3600, downgrade=(("priority", 5),))


def test_finished_run_snapshot(two_runs, offline_app, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))


def test_compare_two_runs_snapshot(two_runs, offline_app, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("p", "space", "down", "space", "c")
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()  # the tab underline slides

    assert snap_compare(offline_app, run_before=before, terminal_size=(120, 36))


async def test_open_a_past_run_copy_it_and_delete_it(two_runs, offline_app, workspace):
    async with offline_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = pilot.app.screen
        assert "tier run #2" in screen.query_one("#run-title").render().plain  # the latest
        await pilot.press("p", "down", "enter")
        await settle(pilot)
        assert "tier run #1" in screen.query_one("#run-title").render().plain
        await pilot.press("m")
        assert pilot.app.clipboard.startswith("## tier run #1: gemini-2.5-flash")
        assert "| flex | 4/5 |" in pilot.app.clipboard
        await pilot.press("a")  # the form again, filled in with the shown run's settings
        await pilot.pause()
        form = pilot.app.screen
        assert form.query_one("#prompt").text.startswith("Explain the difference")
        assert form.query_one("#timeout-flex").value == "900"
        await pilot.press("escape")
        await pilot.press("p")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")  # keep it
        await settle(pilot)
        assert screen.query_one("#runs").row_count == 2
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert screen.query_one("#runs").row_count == 1
    with workspace.session() as session:
        assert [r.id for r in repo.recent(session)] == [2]
        assert repo.samples(session, 1) == []
