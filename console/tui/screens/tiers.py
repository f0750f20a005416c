"""The tier tester pane: flex vs standard vs priority, measured."""

from __future__ import annotations

from textual.app import ComposeResult

from console.tui.formatting import timestamp
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import TierRun

past_runs = service("console.services.tiers.past_runs")

COLUMNS = [
    ("created", "Started"),
    ("model", "Model"),
    ("tiers", "Tiers"),
    ("runs", "Runs/tier"),
    ("status", "Status"),
]


class TiersScreen(PaneScreen):
    TITLE = "Tier tester"
    AREA = "tiers"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("no tier runs yet — press n to start one", id="empty")
        yield ResourceTable(COLUMNS, id="runs")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: past_runs(self.workspace), self._show, name="tiers")

    def _show(self, runs: list[TierRun]) -> None:
        self.query_one("#empty", EmptyState).show(not runs)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                str(r.id),
                (timestamp(r.created_at), r.model, r.tiers, str(r.runs_per_tier), r.status),
            )
            for r in runs
        )
        table.display = table.row_count > 0
