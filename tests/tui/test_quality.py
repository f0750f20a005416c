"""The quality pane: the judge's daily trend per labels and model, the hallucination rate
against its threshold, and the worst-scored answers."""

from __future__ import annotations

import orjson
import pytest

from console.bootstrap import make_app
from console.tui.screens.quality import QualityScreen, QualityTrend
from store.repos import interactions, quality
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import settle

NOW = FROZEN_NOW
DAY = 86_400.0
REASONS = ["Cites a refund window the conversation never gave.",
           "Correct and polite.", "Accurate but curt.", "Invents a policy number."]


def seed(ws) -> None:
    """Nine days of judged answers for two label sets and two models; the last days worse."""
    rows, labels, verdicts = [], [], []
    n = 0
    for day in range(9):
        for team, model in (("support", "gemini-2.5-flash"), ("sales", "gemini-2.5-pro")):
            for k in range(3):
                n += 1
                at = NOW - (8 - day) * DAY - 3600 * (k + 1)
                bad = team == "support" and day >= 6 and k == 0
                rows.append({
                    "at": at, "model": model, "tier": "standard", "source": "console",
                    "prompt_tokens": 40, "output_tokens": 80, "thought_tokens": 0, "cost": 0.001,
                    "system_instruction": None,
                    "contents_json": orjson.dumps([{"role": "user", "parts": [
                        {"text": f"question {n} from [EMAIL_REDACTED]"}]}]).decode(),
                    "response_text": f"answer {n}",
                })
                labels.append({"team": team})
                accuracy = 2 if bad else (5 - (n % 3 == 0) - (day >= 6 and team == "support"))
                verdicts.append((at, model, team, accuracy, 3 + (k % 2) * 2, bad,
                                 REASONS[0] if bad else REASONS[1 + n % 2]))
    with ws.session() as session:
        ids = interactions.insert_many(session, rows, labels)
        for iid, (at, model, team, accuracy, tone, bad, reason) in zip(ids, verdicts,
                                                                       strict=True):
            quality.add_score(session, {
                "interaction_id": iid, "at": at + 60, "answered_at": at, "source": "console",
                "model": model, "labels": f"team={team}", "judge_model": "gemini-2.5-flash-lite",
                "judge_tier": "flex", "status": "scored", "accuracy": accuracy, "tone": tone,
                "hallucination": bad, "reason": reason, "prompt_tokens": 220,
                "output_tokens": 22, "cost": 0.0000155})


@pytest.fixture
def seeded_app(settings, frozen_clock, workspace):
    seed(workspace)
    return make_app(settings, clock=frozen_clock, workspace=workspace, connect=False, sync=False)


async def open_pane(pilot) -> None:
    await pilot.press("8")
    await settle(pilot)


async def test_key_8_opens_the_pane_with_the_rate_the_trend_and_the_worst(seeded_app):
    async with seeded_app.run_test(size=(140, 40)) as pilot:
        await open_pane(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, QualityScreen)
        rate = str(screen.query_one("#rate").render())
        # 3 hallucinations in 54 judged = 5.6 %: over the default 5 % threshold.
        assert "5.6%" in rate and "OVER" in rate and "threshold 5.0%" in rate
        trend = str(screen.query_one(QualityTrend).render())
        assert "team=support · gemini-2.5-flash" in trend and "team=sales" in trend
        table = screen.query_one("#worst")
        first = [str(c) for c in table.get_row_at(0)]
        assert first[6] == "yes" and first[4] == "2"


async def test_under_the_threshold_it_says_within(seeded_app):
    seeded_app.workspace.settings.quality.alert_hallucination_rate = 0.10
    async with seeded_app.run_test(size=(140, 40)) as pilot:
        await open_pane(pilot)
        assert "within" in str(pilot.app.screen.query_one("#rate").render())


async def test_palette_lists_the_pane(seeded_app):
    from console.tui.commands import PaneCommands

    async with seeded_app.run_test(size=(140, 40)) as pilot:
        provider = PaneCommands(pilot.app.screen)
        assert any("Quality (8)" in text for text, *_ in provider._commands())


def test_quality_pane_snapshot(seeded_app, snap_compare):
    assert snap_compare(seeded_app, run_before=open_pane, terminal_size=(140, 36))
