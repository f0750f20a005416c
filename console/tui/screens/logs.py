"""The logs pane: sanitized interactions, filterable by label, model, source and date."""

from __future__ import annotations

from textual.app import ComposeResult

from console.tui.formatting import timestamp
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import Interaction

recent_interactions = service("console.services.interactions.recent_interactions")

COLUMNS = [
    ("at", "Time"),
    ("model", "Model"),
    ("source", "Source"),
    ("labels", "Labels"),
    ("tokens", "Tokens in/out"),
]


class LogsScreen(PaneScreen):
    TITLE = "Logged interactions"
    AREA = "logs"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("", id="empty")
        yield ResourceTable(COLUMNS, id="interactions")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: recent_interactions(self.workspace), self._show, name="logs")

    def _show(self, rows: list[Interaction]) -> None:
        enabled = self.workspace.settings.logging.enabled
        text = "no interactions logged yet" + (
            "" if enabled else " — logging is off (set logging.enabled = true)"
        )
        self.query_one("#empty", EmptyState).show(not rows, text)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                str(i.id),
                (
                    timestamp(i.at),
                    i.model,
                    i.source,
                    " ".join(f"{k}={v}" for k, v in sorted(i.labels.items())),
                    f"{i.prompt_tokens}/{i.output_tokens}",
                ),
            )
            for i in rows
        )
        table.display = table.row_count > 0
