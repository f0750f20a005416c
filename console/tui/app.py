"""GemopsApp: one mode per pane, number keys and the palette to move, a steady sync cadence."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from console.services.workspace import Workspace
from console.tui.messages import Connected, ConnectFailed, Flash, StoreChanged, SyncFinished
from console.tui.screens.help import HelpScreen
from console.tui.screens.overview import OverviewScreen


def _pane(module: str, name: str):
    """A mode factory importing its screen on first use: only the overview is on the path
    to the first frame (the tables' DataTable import is not)."""

    def make():
        from importlib import import_module

        return getattr(import_module(f"console.tui.screens.{module}"), name)()

    return make


def _pane_commands():
    # The palette (textual.command) loads when first opened, not on the way to the first frame.
    from console.tui.commands import PaneCommands

    return PaneCommands


class GemopsApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "gemops"
    COMMANDS = App.COMMANDS | {_pane_commands}

    PANES = [
        ("overview", "Overview"),
        ("caches", "Caches"),
        ("batches", "Batch jobs"),
        ("tiers", "Tier tester"),
        ("limits", "Rate limits"),
        ("costs", "Costs"),
        ("logs", "Logged interactions"),
    ]
    MODES = {
        "overview": OverviewScreen,
        "caches": _pane("caches", "CachesScreen"),
        "batches": _pane("batches", "BatchesScreen"),
        "tiers": _pane("tiers", "TiersScreen"),
        "limits": _pane("limits", "LimitsScreen"),
        "costs": _pane("costs", "CostsScreen"),
        "logs": _pane("logs", "LogsScreen"),
    }
    BINDINGS = [
        *(
            Binding(str(n), f"switch_mode('{mode}')", title, id=f"pane.{mode}", show=False)
            for n, (mode, title) in enumerate(PANES, start=1)
        ),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("ctrl+r", "sync_now", "Sync", id="app.sync"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    mode_label: reactive[str] = reactive("")
    last_sync_at: reactive[float | None] = reactive(None)
    offline: reactive[bool] = reactive(False)

    def __init__(
        self,
        workspace: Workspace,
        *,
        clock: Callable[[], float] = time.time,
        connect: bool = True,
        sync: bool = True,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.clock = clock
        self._connect_on_mount = connect
        self._sync_enabled = sync
        self.connection_text = "connecting…"
        self._sync_timer = None

    def on_mount(self) -> None:
        self.mode_label = self.workspace.mode.value
        self.switch_mode("overview")
        if self._connect_on_mount:
            # After the first frame: connecting imports the SDK and starts the emulator, and a
            # thread holding the GIL for that would hold the first paint back.
            self.call_after_refresh(self._start_connecting)

    def _start_connecting(self) -> None:
        self.run_worker(
                self._connect,
                thread=True,
                group="connect",
                exclusive=True,
                exit_on_error=False,
                description="connect to Gemini",
            )

    def _connect(self) -> None:
        try:
            connection = self.workspace.connection
        except Exception as error:
            self.post_message(ConnectFailed(str(error)))
            return
        self.post_message(Connected(connection.mode.value, connection.base_url))

    @on(Connected)
    def _on_connected(self, message: Connected) -> None:
        where = f" at {message.base_url}" if message.base_url else ""
        self.connection_text = f"{message.mode}{where}"
        self.post_flash(f"connected: {self.connection_text}")
        if self._sync_enabled:
            self.action_sync_now()

    @on(ConnectFailed)
    def _on_connect_failed(self, message: ConnectFailed) -> None:
        self.offline = True
        self.connection_text = f"not connected: {message.error}"
        self.post_flash(self.connection_text, "error")

    # -- sync -----------------------------------------------------------------------------

    def action_sync_now(self) -> None:
        if not self.workspace.connected:
            self.post_flash("not connected yet", "warning")
            return
        # k9s: drop a tick while one is running.
        if any(w.group == "sync" and not w.is_finished for w in self.workers):
            return
        self.run_worker(
            self._sync_tick,
            thread=True,
            group="sync",
            exclusive=False,
            exit_on_error=False,
            description="sync remote state",
        )

    def _sync_tick(self) -> None:
        from console.services.sync import sync_once

        result = sync_once(self.workspace)
        self.post_message(SyncFinished(at=result.at, error=result.error))

    @on(SyncFinished)
    def _on_sync_finished(self, message: SyncFinished) -> None:
        self.offline = message.error is not None
        if message.error is None:
            self.last_sync_at = message.at
        else:
            self.post_flash(f"sync failed: {message.error}", "error")
        self.screen.post_message(StoreChanged("all"))
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        if not self._sync_enabled:
            return
        from console.services.sync import next_interval

        if self._sync_timer is not None:
            self._sync_timer.stop()
        self._sync_timer = self.set_timer(next_interval(self.workspace), self.action_sync_now)

    # -- chrome ---------------------------------------------------------------------------

    def action_help(self) -> None:
        # Our bindings all carry ids; the widgets' cursor keys would only bury them.
        bindings = [a.binding for a in self.screen.active_bindings.values() if a.binding.id]
        self.push_screen(HelpScreen(bindings, getattr(self.screen, "TITLE", "") or "gemops"))

    def post_flash(self, text: str, severity: str = "information") -> None:
        self.screen.post_message(Flash(text, severity))

    def load_samples(self) -> None:
        from console.services.samples import run_sample_workload

        def work() -> None:
            try:
                summary = run_sample_workload(self.workspace)
            except Exception as error:
                self.call_from_thread(self.post_flash, f"sample workload failed: {error}", "error")
                return
            self.call_from_thread(self.post_flash, summary)
            self.call_from_thread(self.action_sync_now)

        self.post_flash("running the sample workload on the emulator…")
        self.run_worker(
            work, thread=True, group="samples", exclusive=True, exit_on_error=False,
            description="sample workload",
        )
