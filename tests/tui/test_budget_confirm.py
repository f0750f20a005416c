"""The console asks before it goes over the spend budget: a batch submit, a tier run and the
drop-folder watch open the shared confirmation with the estimate, today's spend and the budget;
no sends nothing, yes raises today's budget for that action and sends it. Asserted on the
ledger rows in SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from console.bootstrap import make_app, make_workspace
from console.services import budget
from console.settings import LimitSpec
from console.tui.screens.confirm import ConfirmScreen
from store.tables import DropFileRow, LedgerEntry
from tests.tui.conftest import settle
from tests.tui.test_tiers import open_form

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"
MODEL = "gemini-2.5-flash"
TINY = 1e-7  # below any call's estimate
FAST_BATCH = {"batch": {"pending_s": 0.0, "per_request_s": 0.0},
              "tier_latency": {t: {"base_s": 0.01} for t in ("flex", "standard", "priority")}}


@pytest.fixture
def live(settings, emulator, tmp_path):
    settings.gemini.base_url = emulator.base_url
    settings.drop.folder = tmp_path / "drop"
    settings.drop.settle_ms = 50
    settings.budget.daily_usd = TINY
    settings.limits.models[MODEL] = LimitSpec(rpm=60_000, tpm=100_000_000)
    ws = make_workspace(settings)
    yield ws
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


def ledger(ws, **where) -> list[LedgerEntry]:
    if ws.connected:
        ws.gateway.flush_ledger()
    with ws.session() as session:
        query = select(LedgerEntry)
        for key, value in where.items():
            query = query.where(getattr(LedgerEntry, key) == value)
        return list(session.exec(query).scalars())


def claims(ws) -> int:
    with ws.session() as session:
        return len(list(session.exec(select(DropFileRow)).scalars()))


async def dialog(pilot) -> ConfirmScreen:
    for _ in range(400):
        await pilot.pause(0.02)
        # Mounted, Keep focused: a key pressed before that would race the dialog's mount.
        if isinstance(pilot.app.screen, ConfirmScreen) and \
                getattr(pilot.app.focused, "id", None) == "keep":
            return pilot.app.screen
    raise AssertionError(f"no confirmation: {pilot.app.screen!r}")


def said(screen: ConfirmScreen) -> str:
    return " ".join(str(s.render()) for s in screen.query("Static"))


async def submit(pilot, path: Path) -> None:
    await pilot.press("s")
    await pilot.pause()
    pilot.app.screen.query_one("#submit-path").value = str(path)
    await pilot.press("enter")


@pytest.mark.parametrize("emulator_config", [FAST_BATCH], indirect=True)
async def test_batch_submit_over_budget_asks_no_sends_nothing_yes_sends(live, tmp_path):
    source = tmp_path / "nightly.jsonl"
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    estimate = sum(budget.estimate_file(live, source, route="batch")[1].values())
    app = make_app(live.settings, workspace=live, connect=True, sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await submit(pilot, source)
        asked = await dialog(pilot)
        text = said(asked)
        assert "daily budget" in text and f"${estimate:,.4f}" in text
        assert "$0.0000 was spent today" in text and f"${TINY:,.4f}" in text
        await pilot.press("n")
        await settle(pilot)
        assert not ledger(live, operation="create_batch") and claims(live) == 0

        await submit(pilot, source)
        await dialog(pilot)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert len(ledger(live, operation="create_batch")) == 1 and claims(live) == 1
        # Yes raised today's budget by the shortfall of this batch, no more.
        assert budget.spend_gauge(live)[1] == pytest.approx(estimate, rel=1e-6)


@pytest.mark.parametrize("emulator_config", [FAST_BATCH], indirect=True)
async def test_tier_run_over_budget_asks_no_sends_nothing_yes_runs(live):
    app = make_app(live.settings, workspace=live, connect=False, sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot, prompt="Say hi", runs=1)
        await pilot.press("ctrl+s")
        asked = await dialog(pilot)
        assert "Over the daily budget" in said(asked)
        await pilot.press("escape")
        await settle(pilot)
        assert not ledger(live, operation="generate")

        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await dialog(pilot)
        await pilot.press("y")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
    calls = ledger(live, operation="generate")
    assert len(calls) == 3 and all(c.status == 200 for c in calls)


@pytest.mark.parametrize("emulator_config", [FAST_BATCH], indirect=True)
async def test_watch_holds_a_file_over_budget_and_yes_sends_it(live):
    app = make_app(live.settings, workspace=live, connect=True, sync=False)
    root = live.settings.drop_dir
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("w")
        deadline = time.monotonic() + 15
        while not (root / ".gemops" / "watch.lock").exists() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        incoming = root.parent / "incoming.jsonl"
        incoming.write_bytes(b"".join(orjson.dumps({"key": f"k{i}", "prompt": f"q{i}"}) + b"\n"
                                      for i in range(3)))
        incoming.rename(root / "standard" / "over.jsonl")
        asked = await dialog(pilot)
        assert "Over the daily budget" in said(asked)
        assert (root / "held" / "over.jsonl").is_file()
        assert not ledger(live, source="drop")
        await pilot.press("y")
        while not (root / "results" / "over.jsonl").exists() and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert (root / "results" / "over.jsonl").exists()
        await pilot.press("w")  # stop the watcher
        while any(w.group == "dropfolder" and not w.is_finished for w in pilot.app.workers) \
                and time.monotonic() < deadline:
            await pilot.pause(0.05)
    calls = ledger(live, source="drop")
    assert len(calls) == 3 and all(c.status == 200 for c in calls)
