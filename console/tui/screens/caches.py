"""The caches pane: explicit caches mirrored in SQLite."""

from __future__ import annotations

from textual.app import ComposeResult

from console.tui.formatting import duration, timestamp, tokens
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import CachedContent

active_caches = service("console.services.caches.active_caches")

COLUMNS = [
    ("display_name", "Name"),
    ("model", "Model"),
    ("tokens", "Tokens"),
    ("created", "Created"),
    ("expires_in", "Expires in"),
]


class CachesScreen(PaneScreen):
    TITLE = "Caches"
    AREA = "caches"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("no caches yet — press n to create one", id="empty")
        yield ResourceTable(COLUMNS, id="caches")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: active_caches(self.workspace), self._show, name="caches")

    def _show(self, caches: list[CachedContent]) -> None:
        now = self.app.clock()
        self.query_one("#empty", EmptyState).show(not caches)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                c.name,
                (
                    c.display_name or c.name,
                    c.model.removeprefix("models/"),
                    tokens(c.total_tokens),
                    timestamp(c.created_at),
                    duration(c.expires_at - now) if c.expires_at else "—",
                ),
            )
            for c in caches
        )
        table.display = table.row_count > 0
