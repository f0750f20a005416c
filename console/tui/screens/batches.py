"""The batch jobs pane: jobs mirrored in SQLite with progress from batchStats, time in state,
stuck and expired flags; cancel and delete (confirmed); and what the drop folder is doing."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, get_current_worker

from console.services.wording import plural
from console.tui import services
from console.tui.formatting import ago, duration, timestamp
from console.tui.messages import Flash, StoreChanged
from console.tui.screens.base import PaneScreen
from console.tui.screens.batch_dialogs import JobDetail, SubmitFileScreen
from console.tui.screens.confirm import ConfirmScreen, ask_over_budget
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable

# Cells that change length as a job moves on have a fixed width: the longest they can be.
STATE_WIDTH = len("PENDING  ⚠ stuck")  # CANCELLED, SUCCEEDED and EXPIRED  ⚠ 48 h are shorter
STEP_WIDTH = len("submitting")
COLUMNS: list[tuple[str, str] | tuple[str, str, int]] = [
    ("name", "Job"),
    ("state", "State", STATE_WIDTH),
    ("progress", "Progress"),
    ("counts", "OK / failed / pending"),
    ("in_state", "In state", len("In state")),  # durations are at most "23h59m"
    ("results", "Results", len("written")),
    ("model", "Model"),
]
DROP_COLUMNS: list[tuple[str, str] | tuple[str, str, int]] = [
    ("file", "File"),
    ("route", "Route"),
    ("step", "Step", STEP_WIDTH),
    ("requests", "Requests"),
    ("outcome", "Batch / outcome"),
    ("updated", "Updated"),
]
BAR_WIDTH = 10
COLLECT_RETRY_S = 60.0
STATE_STYLES = {
    "SUCCEEDED": "green",
    "RUNNING": "cyan",
    "PENDING": "",
    "FAILED": "red",
    "CANCELLED": "yellow",
    "EXPIRED": "red",
}
STEP_STYLES = {"done": "green", "submitted": "cyan", "running": "cyan", "rejected": "red",
               "failed": "red"}
TAG = " gemops:"


def job_label(view: Any) -> str:
    """The drop file's name, else the display name without gemops' hash tag, else the id."""
    job = view.job
    shown = view.drop_name or job.display_name.split(TAG, 1)[0] or job.name
    return shown if len(shown) <= 32 else shown[:31] + "…"


def progress_bar(job: Any) -> str:
    done = job.succeeded_count + job.failed_count
    total = max(job.request_count, done, 1)
    if job.state == "JOB_STATE_SUCCEEDED":
        done = total
    filled = round(BAR_WIDTH * done / total)
    return "█" * filled + "░" * (BAR_WIDTH - filled) + f" {100 * done // total:3d}%"


def state_cell(view: Any) -> Text:
    state = view.job.state.removeprefix("JOB_STATE_")
    text = Text(state, style=STATE_STYLES.get(state, ""))
    if view.stuck:
        text.append("  ⚠ stuck", style="bold yellow")
    elif view.expired:
        text.append("  ⚠ 48 h", style="bold red")
    return text


class HeldOverBudget(Message):
    """The watcher held a file over the spend budget (from its thread): ask here."""

    def __init__(self, refusal: Any, folder: Any) -> None:
        super().__init__()
        self.refusal = refusal
        self.folder = folder


class BatchesScreen(PaneScreen):
    TITLE = "Batch jobs"
    AREA = "batches"
    DEFAULT_CSS = """
    BatchesScreen #batches { height: auto; max-height: 60%; }
    BatchesScreen #drop-section { height: 1fr; margin-top: 1; }
    BatchesScreen #drop-section.hidden { display: none; }
    BatchesScreen #drop-title { color: $accent; height: 1; }
    BatchesScreen #drops { height: 1fr; }
    """
    BINDINGS = [
        Binding("c", "cancel_job", "Cancel job", id="batches.cancel"),
        Binding("d", "delete_job", "Delete job", id="batches.delete"),
        Binding("enter", "detail", "Detail", id="batches.detail"),
        Binding("r", "write_results", "Write results", id="batches.results"),
        Binding("s", "submit_file", "Submit file", id="batches.submit"),
        Binding("w", "watch", "Watch drop folder", id="batches.watch"),
        Binding("f", "toggle_drops", "Drop activity", id="batches.drops"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, Any] = {}
        self._watch_stop: threading.Event | None = None
        self._collect_tried: dict[str, float] = {}

    def compose_body(self) -> ComposeResult:
        yield EmptyState("", id="empty")
        yield ResourceTable(COLUMNS, id="batches")
        with Vertical(id="drop-section"):
            yield Static("", id="drop-title")
            yield ResourceTable(DROP_COLUMNS, id="drops")

    def on_unmount(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()

    # -- reading ------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        def read() -> tuple[list[Any], Any]:
            ws = self.workspace
            return services.batches.job_views(ws), services.batches.drop_activity(ws)

        self.read_in_thread(read, self._show, name="batches")

    def _show(self, data: tuple[list[Any], Any]) -> None:
        views, activity = data
        now = self.app.clock()
        self._views = {v.name: v for v in views}
        drop_dir = self.workspace.settings.drop_dir
        self.query_one("#empty", EmptyState).show(
            not views, f"no batch jobs yet — drop a JSONL file into {drop_dir}/batch "
                       "(w watches the drop folder from here)"
        )
        table = self.query_one("#batches", ResourceTable)
        table.apply((v.name, self._cells(v, now)) for v in views)
        table.display = table.row_count > 0
        self._show_drops(activity, now)
        due = [v.name for v in views if v.job.done and v.job.results_path
               and not v.job.results_written_at]
        if due and self.workspace.connected:
            self._collect(due)

    def _collect(self, names: list[str]) -> None:
        """Finished jobs gemops submitted get their results written while the pane is open
        (a job whose download failed is tried again a while later, not on every refresh)."""
        now = time.monotonic()
        names = [n for n in names if self._collect_tried.get(n, 0.0) + COLLECT_RETRY_S < now]
        if not names or any(w.group == "batch-results" and not w.is_finished
                            for w in self.workers):
            return
        self._collect_tried.update(dict.fromkeys(names, now))
        self._act(lambda: services.batches.collect_finished(self.workspace, names=names),
                  f"results written for {plural(len(names), 'finished job')}", name="batch-results")

    def _cells(self, view: Any, now: float) -> tuple:
        job = view.job
        results = "written" if job.results_written_at else ("due" if job.results_path and
                                                              job.done else "—")
        return (
            job_label(view),
            state_cell(view),
            progress_bar(job),
            f"{job.succeeded_count} / {job.failed_count} / {job.pending_count}",
            duration(view.in_state_s) if view.in_state_s is not None else "—",
            results,
            job.model.removeprefix("models/"),
        )

    def _show_drops(self, activity: Any, now: float) -> None:
        watching = "watching" if self._watch_stop is not None else "not watched from here (w)"
        files = activity.files
        self.query_one("#drop-title", Static).update(
            f"Drop folder  {self.workspace.settings.drop_dir}  ·  {watching}  ·  "
            f"{plural(len(files), 'file')}"
        )
        table = self.query_one("#drops", ResourceTable)
        table.apply((str(d.id), self._drop_cells(d, now)) for d in files)

    @staticmethod
    def _drop_cells(drop: Any, now: float) -> tuple:
        if drop.step in ("rejected", "failed"):
            outcome = drop.error or drop.step
        elif drop.batch_name:
            outcome = drop.batch_name
        elif drop.step in ("running", "done"):
            outcome = f"{drop.done_requests} of {drop.request_count} answered"
        else:
            outcome = "—"
        return (
            drop.name,
            drop.route,
            Text(drop.step, style=STEP_STYLES.get(drop.step, "")),
            str(drop.request_count or "—"),
            Text(outcome if len(outcome) <= 48 else outcome[:47] + "…", no_wrap=True),
            ago(now - drop.updated_at),
        )

    # -- actions ------------------------------------------------------------------------------

    def _selected(self) -> Any | None:
        key = self.query_one("#batches", ResourceTable).selected_key
        view = self._views.get(key) if key else None
        if view is None:
            self.flash("no batch job selected", "warning")
        return view

    def _act(self, call: Any, done: str, *, name: str) -> None:
        """Run a job action in a worker; flash what happened and re-read the pane."""

        def work() -> None:
            try:
                call()
            except Exception as error:  # shown, never a crash
                self.post_message(Flash(f"{name}: {error}", "error"))
                return
            self.post_message(Flash(done))
            self.post_message(StoreChanged(self.AREA))

        self.run_worker(work, thread=True, group=name, exclusive=False,
                        exit_on_error=False, description=name)

    def action_cancel_job(self) -> None:
        view = self._selected()
        if view is None:
            return
        if view.job.done:
            state = view.job.state.removeprefix("JOB_STATE_").lower()
            self.flash(f"{job_label(view)} has already {state}", "warning")
            return
        name = view.name

        def answer(confirmed: bool | None) -> None:
            if confirmed:
                self._act(lambda: services.batches.cancel_job(self.workspace, name),
                          f"cancelled {name}", name="cancel")

        self.app.push_screen(ConfirmScreen(
            f"Cancel {job_label(view)} ({name})?", "Cancel job",
            "Requests already answered are still billed; the rest are dropped."), answer)

    def action_delete_job(self) -> None:
        view = self._selected()
        if view is None:
            return
        name = view.name
        hint = ("The API forgets the job; its row and any results written here stay."
                if view.job.done else
                "The job has not finished: deleting it drops the requests not yet answered.")

        def answer(confirmed: bool | None) -> None:
            if confirmed:
                self._act(lambda: services.batches.delete_job(self.workspace, name),
                          f"deleted {name}", name="delete")

        self.app.push_screen(
            ConfirmScreen(f"Delete {job_label(view)} ({name})?", "Delete job", hint), answer)

    def action_write_results(self) -> None:
        view = self._selected()
        if view is None:
            return
        job = view.job
        if job.results_written_at:
            self.flash(f"results: {job.results_path}")
            return
        if not job.done:
            self.flash(f"{job_label(view)} is {job.state.removeprefix('JOB_STATE_')}: "
                       "no results yet", "warning")
            return
        if not job.results_path:
            self.flash("not submitted by gemops: write them with "
                       f"`gemops batches results {job.name} --out FILE`", "warning")
            return
        self._act(lambda: services.batches.collect_finished(self.workspace, names=[job.name]),
                  f"results: {job.results_path}", name="results")

    def action_detail(self) -> None:
        view = self._selected()
        if view is None:
            return
        job = view.job
        flags = ", ".join(f for f, on in (("stuck in PENDING", view.stuck),
                                          ("expired (48 h)", view.expired)) if on)
        rows = [
            ("name", job.name),
            ("display name", job.display_name or "—"),
            ("model", job.model),
            ("state", job.state.removeprefix("JOB_STATE_") + (f"  ({flags})" if flags else "")),
            ("in state", duration(view.in_state_s) if view.in_state_s is not None else "—"),
            ("created", timestamp(job.created_at)),
            ("ended", timestamp(job.ended_at)),
            ("requests", f"{job.request_count}: {job.succeeded_count} ok, "
                         f"{job.failed_count} failed, {job.pending_count} pending"),
            ("input file", job.input_file or "inline"),
            ("responses file", job.responses_file or "—"),
            ("drop file", view.drop_name or "—"),
            ("linked job", view.linked or "—"),
            ("results", job.results_path or "—"),
            ("error", job.error or "—"),
        ]
        self.app.push_screen(JobDetail(job_label(view), rows))

    @on(DataTable.RowSelected, "#batches")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        # The table takes enter for itself: choosing a row is the same as asking for detail.
        event.stop()
        self.action_detail()

    def action_submit_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._submit(path)

        self.app.push_screen(SubmitFileScreen(), chosen)

    def _submit(self, path: str, allowance: float = 0.0) -> None:
        from pathlib import Path

        from console.services import budget

        file = Path(path).expanduser()

        def work() -> None:
            try:
                if allowance:  # the user said yes to going over the spend budget for this
                    budget.allow_over(self.workspace, allowance)
                outcome = services.batches.submit_file(self.workspace, file)
            except budget.OverBudget as refusal:  # nothing was claimed or sent: ask first
                self.app.call_from_thread(ask_over_budget, self.app, refusal,
                                          lambda allow: self._submit(path, allow))
                return
            except Exception as error:  # shown, never a crash
                self.post_message(Flash(f"submit {file}: {error}", "error"))
                return
            if outcome.duplicate_of is not None:
                text = (f"{file.name} was submitted before "
                        f"({outcome.duplicate_of.batch_name or outcome.duplicate_of.step})")
                self.post_message(Flash(text, "warning"))
            elif not outcome.ok:
                first = outcome.errors[0] if outcome.errors else None
                why = f"line {first.line}: {first.message}" if first else "not submitted"
                more = f" (+{len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
                self.post_message(Flash(f"{file.name} rejected — {why}{more}", "error"))
            else:
                assert outcome.drop is not None
                self.post_message(Flash(f"submitted {file.name} as {outcome.drop.batch_name}; "
                                        "results are written beside it when it finishes"))
            self.post_message(StoreChanged(self.AREA))

        self.flash(f"validating and submitting {file}…")
        self.run_worker(work, thread=True, group="submit", exit_on_error=False,
                        description="submit a batch file")

    def select(self, name: str) -> bool:
        """Put the cursor on a job (the palette opens one by name)."""
        table = self.query_one("#batches", ResourceTable)
        if name not in table.row_keys:
            return False
        table.move_cursor(row=table.get_row_index(name))
        return True

    def action_toggle_drops(self) -> None:
        self.query_one("#drop-section").toggle_class("hidden")

    def action_watch(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
            self.flash("stopping the drop-folder watcher once its files in flight are done")
            return
        asked = threading.Event()
        self._watch_stop = asked
        root = self.workspace.settings.drop_dir
        severities = {"error": "error", "rejected": "error", "failed": "error",
                      "duplicate": "warning", "waiting": "warning", "held": "warning"}

        def notice(item: Any) -> None:
            # Posted, never called across: the watcher must not wait on the UI (say, quitting).
            self.post_message(Flash(str(item), severities.get(item.kind, "information")))
            if item.over is not None:  # held over the spend budget: ask whether to go over
                self.post_message(HeldOverBudget(item.over, folders[0]))
            self.post_message(StoreChanged(self.AREA))

        folders: list[Any] = []

        def work() -> None:
            stop = _StopWhenCancelled(asked, get_current_worker())
            try:
                folders.append(services.dropfolder.DropFolder(self.workspace, root, notify=notice))
                asyncio.run(folders[0].run(stop))
            except Exception as failure:  # shown in the flash line, never a crash
                self.post_message(Flash(f"drop folder: {failure}", "error"))

        self.flash(f"watching {root}")
        self.run_worker(work, thread=True, group="dropfolder", exclusive=True,
                        exit_on_error=False, description="watch the drop folder")
        self.refresh_data()

    @on(HeldOverBudget)
    def _held_over_budget(self, message: HeldOverBudget) -> None:
        folder = message.folder

        def go(allowance: float) -> None:
            def allow() -> None:
                from console.services import budget

                budget.allow_over(self.workspace, allowance)
                folder.poke()  # the watcher's next tick sends what was held

            self.run_worker(allow, thread=True, group="budget-allow", exit_on_error=False,
                            description="go over the spend budget")

        ask_over_budget(self.app, message.refusal, go)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "dropfolder" and event.worker.is_finished:
            self._watch_stop = None
            self.refresh_data()


class _StopWhenCancelled:
    """The watcher's stop signal: asked for with `w`, or the worker cancelled (the app quits)."""

    def __init__(self, asked: threading.Event, worker: Worker) -> None:
        self._asked = asked
        self._worker = worker

    def is_set(self) -> bool:
        return self._asked.is_set() or self._worker.is_cancelled

    def set(self) -> None:
        self._asked.set()
