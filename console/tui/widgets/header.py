"""The header: pane title, LIVE/EMULATOR badge, last sync, OFFLINE when the API is unreachable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console.tui.formatting import ago


class AppHeader(Horizontal):
    DEFAULT_CSS = """
    AppHeader { height: 1; background: $panel; color: $text; }
    AppHeader > #brand { width: auto; padding: 0 1; text-style: bold; color: $accent; }
    AppHeader > #title { width: 1fr; padding: 0 1; }
    AppHeader > .badge { width: auto; padding: 0 1; }
    AppHeader > #mode.emulator { background: $warning; color: $background; text-style: bold; }
    AppHeader > #mode.live { background: $success; color: $background; text-style: bold; }
    AppHeader > #offline { background: $error; color: $text; text-style: bold; display: none; }
    AppHeader > #offline.shown { display: block; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static("gemops", id="brand")
        yield Static(self._title, id="title")
        yield Static("", id="sync", classes="badge")
        yield Static("OFFLINE", id="offline", classes="badge")
        yield Static("", id="mode", classes="badge")

    def on_mount(self) -> None:
        self.watch(self.app, "mode_label", self._show_mode)
        self.watch(self.app, "last_sync_at", self._show_sync)
        self.watch(self.app, "offline", self._show_offline)
        self.set_interval(1.0, self._refresh_sync)

    def _show_mode(self, label: str) -> None:
        badge = self.query_one("#mode", Static)
        badge.update(label)
        badge.set_class(label == "EMULATOR", "emulator")
        badge.set_class(label == "LIVE", "live")

    def _show_sync(self, _at: float | None) -> None:
        self._refresh_sync()

    def _refresh_sync(self) -> None:
        at = self.app.last_sync_at
        text = "never synced" if at is None else f"synced {ago(self.app.clock() - at)}"
        self.query_one("#sync", Static).update(text)

    def _show_offline(self, offline: bool) -> None:
        self.query_one("#offline", Static).set_class(offline, "shown")
