"""The batch jobs pane: jobs mirrored in SQLite, with progress from batchStats."""

from __future__ import annotations

from textual.app import ComposeResult

from console.tui.formatting import duration
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import BatchJob

list_jobs = service("console.services.batches.list_jobs")

COLUMNS = [
    ("display_name", "Name"),
    ("model", "Model"),
    ("state", "State"),
    ("progress", "Done / failed / all"),
    ("in_state", "In state"),
]


class BatchesScreen(PaneScreen):
    TITLE = "Batch jobs"
    AREA = "batches"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("", id="empty")
        yield ResourceTable(COLUMNS, id="batches")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: list_jobs(self.workspace), self._show, name="batches")

    def _show(self, jobs: list[BatchJob]) -> None:
        now = self.app.clock()
        drop = self.workspace.settings.drop_dir
        self.query_one("#empty", EmptyState).show(
            not jobs, f"no batch jobs yet — drop a JSONL file into {drop}"
        )
        table = self.query_one(ResourceTable)
        table.apply(
            (
                j.name,
                (
                    j.display_name or j.name,
                    j.model.removeprefix("models/"),
                    j.state.removeprefix("JOB_STATE_"),
                    f"{j.succeeded_count} / {j.failed_count} / {j.request_count}",
                    duration(now - j.state_since) if j.state_since else "—",
                ),
            )
            for j in jobs
        )
        table.display = table.row_count > 0
