"""The overview pane: counts across every area, read from SQLite."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Static

from console.tui import services
from console.tui.formatting import money, saving, tokens
from console.tui.screens.base import PaneScreen

if TYPE_CHECKING:
    from store.records import Overview


CARD_TITLES = {
    "caches": "Caches",
    "batches": "Batch jobs",
    "files": "Files",
    "drop": "Drop folder",
    "spend": "Spend today",
    "savings": "Saved today",
    "logs": "Interactions",
    "tiers": "Tier runs",
}


class OverviewCard(Static):
    DEFAULT_CSS = """
    OverviewCard { border: round $primary-muted; padding: 0 1; height: 5; }
    """


class OverviewScreen(PaneScreen):
    TITLE = "Overview"
    BINDINGS = [Binding("s", "load_samples", "Sample data", id="overview.samples")]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="connection")
        with Grid(id="cards"):
            for key in ("caches", "batches", "files", "drop", "spend", "savings", "logs", "tiers"):
                yield OverviewCard(f"[b]{CARD_TITLES[key]}[/b]\n…", id=f"card-{key}")
        yield Static("", id="hint")

    def on_mount(self) -> None:
        self.watch(self.app, "sample_status", self._show_sample_status, init=False)

    def _show_sample_status(self, status: str) -> None:
        if status:
            self.query_one("#hint", Static).update(f"Sample workload — {status}")
        else:
            self.refresh_data()

    def refresh_data(self) -> None:
        ws = self.workspace
        self.read_in_thread(lambda: services.overview.read_overview(ws), self._show, name="overview")

    def _show(self, o: Overview) -> None:
        self.query_one("#connection", Static).update(self.app.connection_text)
        cards = {
            "caches": f"[b]Caches[/b]\n{o.active_caches} active\n{tokens(o.cached_tokens)} tokens cached",
            "batches": f"[b]Batch jobs[/b]\n{o.running_batches} running\n{o.batches_total} in all",
            "files": f"[b]Files[/b]\n{o.files} uploaded",
            "drop": f"[b]Drop folder[/b]\n{o.drop_files} files seen",
            "spend": f"[b]Spend today[/b]\n{money(o.spend_today)}\n{o.calls_today} calls",
            "savings": f"[b]Saved today[/b]\n{saving(o.savings_today)}\n"
                       + ("vs standard" if o.savings_today >= 0 else "priority over standard"),
            "logs": f"[b]Interactions[/b]\n{o.interactions} logged",
            "tiers": f"[b]Tier runs[/b]\n{o.tier_runs} recorded",
        }
        for key, text in cards.items():
            self.query_one(f"#card-{key}", Static).update(text)
        empty = o.calls_today == 0 and o.batches_total == 0 and o.active_caches == 0
        hint = ""
        if self.app.sample_status:
            hint = f"Sample workload — {self.app.sample_status}"
        elif empty and self.app.mode_label == "EMULATOR":
            hint = "Nothing here yet. Press [b]s[/b] to run a sample workload on the emulator."
        self.query_one("#hint", Static).update(hint)

    def action_load_samples(self) -> None:
        self.app.load_samples()
