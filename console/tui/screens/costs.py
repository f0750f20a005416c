"""The costs pane: spend and savings today and over 7 days, from the ledger."""

from __future__ import annotations

from textual.app import ComposeResult

from console.tui.formatting import money
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import SpendRow

spend_today_and_week = service("console.services.spend.spend_today_and_week")

COLUMNS = [
    ("group", "Model"),
    ("today", "Today"),
    ("saved_today", "Saved today"),
    ("week", "7 days"),
    ("saved_week", "Saved 7 days"),
    ("calls", "Calls (7 d)"),
]


class CostsScreen(PaneScreen):
    TITLE = "Costs"
    AREA = "costs"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("no calls recorded yet — every call's cost lands here", id="empty")
        yield ResourceTable(COLUMNS, id="spend")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: spend_today_and_week(self.workspace), self._show, name="costs")

    def _show(self, result: tuple[list[SpendRow], list[SpendRow]]) -> None:
        today = {r.group: r for r in result[0]}
        week = result[1]
        self.query_one("#empty", EmptyState).show(not week)
        zero = SpendRow("", 0, 0, 0, 0, 0, 0.0, 0.0)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                w.group,
                (
                    w.group,
                    money(today.get(w.group, zero).cost),
                    money(today.get(w.group, zero).savings),
                    money(w.cost),
                    money(w.savings),
                    str(w.calls),
                ),
            )
            for w in week
        )
        table.display = table.row_count > 0
