"""The header: pane title, LIVE/EMULATOR badge, how old the mirrored data is, what the last
sync could not reach, and OFFLINE while the API is unreachable (the panes keep the last state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console.tui.formatting import ago, duration

if TYPE_CHECKING:
    from textual import getters

    from console.tui.app import GemopsApp


class AppHeader(Horizontal):
    if TYPE_CHECKING:  # `self.app` as the gemops app for the type checker
        app = getters.app(GemopsApp)

    DEFAULT_CSS = """
    AppHeader { height: 1; background: $panel; color: $text; }
    AppHeader > #brand { width: auto; padding: 0 1; text-style: bold; color: $accent; }
    AppHeader > #title { width: 1fr; padding: 0 1; }
    AppHeader > .badge { width: auto; padding: 0 1; }
    AppHeader > #sync.problem { color: $warning; }
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
        app = self.app
        self.watch(app, "mode_label", self._show_mode)
        for name in ("last_sync_at", "sync_in_flight", "sync_problem", "sync_retry_at"):
            self.watch(app, name, self._show_sync)
        self.watch(app, "offline", self._show_offline)
        # "synced 5s ago" and "retry in 40s" age by the second without anything else changing.
        self.set_interval(1.0, self._refresh_sync)
        app.restore_sync_state()

    def _show_mode(self, label: str) -> None:
        badge = self.query_one("#mode", Static)
        badge.update(label)
        badge.set_class(label == "EMULATOR", "emulator")
        badge.set_class(label == "LIVE", "live")

    def _show_sync(self, _value: object) -> None:
        self._refresh_sync()

    def _refresh_sync(self) -> None:
        app = self.app
        now = app.clock()
        at = app.last_sync_at
        if app.sync_in_flight:
            text = "syncing…"
        else:
            text = "never synced" if at is None else f"synced {ago(now - at)}"
        parts = [text]
        if app.sync_problem and not app.offline:
            parts.append(app.sync_problem)
        if app.sync_retry_at is not None and not app.sync_in_flight:
            parts.append(f"retry in {duration(app.sync_retry_at - now)}")
        badge = self.query_one("#sync", Static)
        badge.update(" · ".join(parts))
        badge.set_class(bool(app.sync_problem), "problem")

    def _show_offline(self, offline: bool) -> None:
        self.query_one("#offline", Static).set_class(offline, "shown")
