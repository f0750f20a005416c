"""GemopsApp: one mode per pane, number keys and the palette to move, a steady sync cadence."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer

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


def _action_commands():
    from console.tui.commands import ActionCommands

    return ActionCommands


def _resource_commands():
    from console.tui.commands import ResourceCommands

    return ResourceCommands


class GemopsApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "gemops"
    COMMANDS = App.COMMANDS | {_pane_commands, _action_commands, _resource_commands}

    PANES = [
        ("overview", "Overview"),
        ("caches", "Caches"),
        ("batches", "Batch jobs"),
        ("tiers", "Tier tester"),
        ("limits", "Rate limits"),
        ("costs", "Costs"),
        ("logs", "Logged interactions"),
        ("quality", "Quality"),
    ]
    MODES = {
        "overview": OverviewScreen,
        "caches": _pane("caches", "CachesScreen"),
        "batches": _pane("batches", "BatchesScreen"),
        "tiers": _pane("tiers", "TiersScreen"),
        "limits": _pane("limits", "LimitsScreen"),
        "costs": _pane("costs", "CostsScreen"),
        "logs": _pane("logs", "LogsScreen"),
        "quality": _pane("quality", "QualityScreen"),
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
        self._sync_timer: Timer | None = None

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

    # The header reads these: a tick in flight, which resources failed last, and when the
    # next attempt is due while the loop is backing off.
    sync_in_flight: reactive[bool] = reactive(False)
    sync_problem: reactive[str | None] = reactive(None)
    sync_retry_at: reactive[float | None] = reactive(None)
    _sync_loop = None  # a SyncLoop, made by the first tick (its import pulls in SQLAlchemy)
    _sync_restored = False

    def action_sync_now(self) -> None:
        """Sync now (ctrl+r, the palette, after connecting): skips the wait of the cadence or
        of the back-off; a press while a tick runs is dropped (k9s)."""
        if not self.workspace.connected:
            if self._connect_on_mount and not any(
                w.group == "connect" and not w.is_finished for w in self.workers
            ):
                self.post_flash("not connected: trying again…", "warning")
                self._start_connecting()
            else:
                self.post_flash("not connected yet", "warning")
            return
        if self.sync_in_flight:
            return
        self.sync_in_flight = True
        self.run_worker(
            self._sync_tick,
            thread=True,
            group="sync",
            exclusive=False,
            exit_on_error=False,
            description="sync remote state",
        )

    def _sync_tick(self) -> None:
        from console.services.sync import SyncLoop, TickResult

        if self._sync_loop is None:
            self._sync_loop = SyncLoop(self.workspace, collect=True)
        try:
            result = self._sync_loop.tick()
        except Exception as error:  # a bug must not stop the cadence
            result = TickResult(at=self.clock(), errors={"sync": str(error)}, consecutive_errors=1)
            self._sync_loop.last = result
        if result is None:  # another tick held the loop: this one is dropped
            self.call_from_thread(setattr, self, "sync_in_flight", False)
            return
        if result.collect_error:  # results are retried next tick; say why meanwhile
            self.call_from_thread(self.post_flash, f"writing batch results: {result.collect_error}",
                                  "error")
        from console.services.quality import take_alerts

        for text in take_alerts(self.workspace):  # the judge's hallucination-rate alert
            self.call_from_thread(self.post_flash, text, "error")
        self.post_message(SyncFinished(at=result.at, error=result.error))

    @on(SyncFinished)
    def _on_sync_finished(self, message: SyncFinished) -> None:
        result = self._sync_loop.last if self._sync_loop else None
        was = self.sync_problem
        self.sync_in_flight = False
        self.offline = result.offline if result is not None else message.error is not None
        if message.error is None:
            self.last_sync_at = message.at
            self.sync_problem = None
        else:
            errors = result.errors if result is not None else {"sync": message.error}
            failed = ", ".join(errors)
            self.sync_problem = f"{failed} failed"
            # Flash a new failure once; the header keeps showing it while it lasts.
            if was != self.sync_problem:
                first = next(iter(errors.values()))
                if self.offline:
                    text = f"sync failed — offline: {first}; ctrl+r retries now"
                else:
                    text = f"sync failed for {failed}: {first}"
                self.post_flash(text, "error")
        if message.error is None and was is not None:
            self.post_flash("sync recovered")
        self.screen.post_message(StoreChanged("all"))
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        if not self._sync_enabled or self._sync_loop is None:
            return
        if self._sync_timer is not None:
            self._sync_timer.stop()
        delay = self._sync_loop.interval()
        last = self._sync_loop.last
        self.sync_retry_at = self.clock() + delay if last is not None and not last.ok else None
        self._sync_timer = self.set_timer(delay, self.action_sync_now)

    def restore_sync_state(self) -> None:
        """The last sync recorded in SQLite, for the header before this session's first tick
        (an offline start still says how old the panes' data is)."""
        if self._sync_restored:
            return
        self._sync_restored = True

        def read() -> None:
            from console.services.overview import read_sync_state

            try:
                state = read_sync_state(self.workspace)
            except Exception:  # an unreadable store shows up in the panes themselves
                return
            if state is not None:
                self.call_from_thread(self._apply_sync_state, state.last_success_at,
                                      state.consecutive_errors)

        self.run_worker(read, thread=True, group="sync-state", exit_on_error=False,
                        description="read the last sync")

    def _apply_sync_state(self, last_success_at: float | None, errors: int) -> None:
        if self.last_sync_at is None and self.sync_problem is None:
            self.last_sync_at = last_success_at
            if errors:
                self.sync_problem = "last sync failed"

    # -- chrome ---------------------------------------------------------------------------

    def action_help(self) -> None:
        # Our bindings all carry ids; the widgets' cursor keys would only bury them.
        bindings = [a.binding for a in self.screen.active_bindings.values() if a.binding.id]
        self.push_screen(HelpScreen(bindings, getattr(self.screen, "TITLE", "") or "gemops"))

    def post_flash(self, text: str, severity: str = "information") -> None:
        self.screen.post_message(Flash(text, severity))

    # What the sample workload is doing, step by step (the overview shows it; "" when idle).
    sample_status: reactive[str] = reactive("")

    def load_samples(self, *, confirmed: bool = False) -> None:
        """Run the sample workload on the emulator; a second run asks first (duplicates)."""
        if any(w.group == "samples" and not w.is_finished for w in self.workers):
            self.post_flash(f"the sample workload is running: {self.sample_status}", "warning")
            return
        if self.workspace.mode.value != "EMULATOR":
            self.post_flash("the sample workload runs on the emulator only: an API key is set",
                            "warning")
            return
        if confirmed:
            self._run_samples()
            return

        def check() -> None:
            from console.services.samples import already_run

            try:
                again = already_run(self.workspace)
            except Exception:  # an unreadable store: the run itself will say what is wrong
                again = False
            self.call_from_thread(self._ask_before_samples if again else self._run_samples)

        self.run_worker(check, thread=True, group="samples-check", exclusive=True,
                        exit_on_error=False, description="has the sample run before?")

    def _ask_before_samples(self) -> None:
        from console.tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self._run_samples()

        self.push_screen(ConfirmScreen(
            "Run the sample workload again?", "Run again",
            "Its cache and batch are already here: another run adds a second cache, six more "
            "calls and a second batch."), answer)

    def _run_samples(self, allowance: float = 0.0) -> None:
        from console.services import budget
        from console.services.samples import run_sample_workload

        def step(text: str) -> None:
            self.call_from_thread(self._sample_step, text)

        def work() -> None:
            try:  # over the spend budget: ask first (nothing is sent until a yes)
                budget.before_action(self.workspace, budget.estimate_samples(self.workspace),
                                     allowance)
            except budget.OverBudget as refusal:
                from console.tui.screens.confirm import ask_over_budget

                self.call_from_thread(self._sample_step, "")
                self.call_from_thread(ask_over_budget, self, refusal, self._run_samples)
                return
            try:
                summary = run_sample_workload(self.workspace, step)
            except Exception as error:
                self.call_from_thread(self._sample_step, "")
                self.call_from_thread(self.post_flash, f"sample workload failed: {error}", "error")
                return
            self.call_from_thread(self._sample_step, "")
            self.call_from_thread(self.post_flash, summary)
            self.call_from_thread(self.action_sync_now)

        self._sample_step("starting the sample workload on the emulator…")
        self.run_worker(
            work, thread=True, group="samples", exclusive=True, exit_on_error=False,
            description="sample workload",
        )

    def _sample_step(self, text: str) -> None:
        self.sample_status = text
        if text:
            self.post_flash(f"sample: {text}")
