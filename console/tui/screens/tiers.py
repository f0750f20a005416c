"""The tier tester pane: start a run, watch its samples arrive, read the summary and per-run
tables, the latency chart and the recommendation; list past runs and compare two side by side."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from console.tui import services
from console.tui.formatting import timestamp
from console.tui.screens.base import PaneScreen
from console.tui.screens.confirm import ConfirmScreen, ask_over_budget
from console.tui.screens.empty import EmptyState
from console.tui.screens.tier_dialogs import FormValues, TierRunForm
from console.tui.widgets.resource_table import ResourceTable
from console.tui.widgets.tier_chart import LatencyChart, Series

if TYPE_CHECKING:
    from console.services.tiers import PastRun, SampleArrived, TierPlan, TierReport
    from store.records import TierRun


# Keys match the service's cell dicts (summary_cells / sample_cells / compare_cells).
SUMMARY_COLUMNS = [
    ("tier", "Tier"), ("ok", "OK"), ("avg", "Avg"), ("min", "Min"), ("max", "Max"),
    ("p50", "p50"), ("p95", "p95"), ("spread", "Spread"), ("avg_out", "Avg out"),
    ("per_call", "$/call"), ("vs_std", "vs standard"), ("failovers", "Failovers"),
    ("errors", "Errors"),
]
SAMPLE_COLUMNS = [
    ("tier", "Tier"), ("run", "Run"), ("ok", "OK"), ("latency", "Latency (wall)"),
    ("http", "HTTP"), ("served", "Served"), ("in", "In"), ("out", "Out"),
    ("thought", "Thought"), ("total", "Total"), ("attempts", "Tries"), ("cost", "Cost"),
    ("error", "Error"),
]
PAST_COLUMNS = [
    ("mark", " "), ("id", "#"), ("created", "Started"), ("model", "Model"),
    ("tiers", "Tiers"), ("runs", "Runs/tier"), ("order", "Order"), ("conc", "Conc."),
    ("samples", "OK/done/of"), ("status", "Status"),
]
COMPARE_COLUMNS = [
    ("tier", "Tier"), ("ok_a", "OK A"), ("ok_b", "OK B"), ("avg_a", "Avg A"),
    ("avg_b", "Avg B"), ("avg_delta", "Δ avg"), ("p95_a", "p95 A"), ("p95_b", "p95 B"),
    ("spread_a", "Spread A"), ("spread_b", "Spread B"), ("vs_std_a", "vs std A"),
    ("vs_std_b", "vs std B"), ("failovers", "Failovers A/B"),
]
# Figures read best right-aligned, words left.
NUMERIC = {"avg", "min", "max", "p50", "p95", "spread", "avg_out", "per_call", "vs_std",
           "failovers", "run", "latency", "http", "in", "out", "thought", "total", "attempts",
           "cost", "id", "runs", "conc", "samples", "ok_a", "ok_b", "avg_a", "avg_b",
           "avg_delta", "p95_a", "p95_b", "spread_a", "spread_b", "vs_std_a", "vs_std_b"}
MARK_STYLE = "bold green"
MARK_LEGEND = {"avg": "fastest", "spread": "steadiest", "vs_std": "cheapest"}
LATENCY_NOTE = (
    "Latency (wall): the caller's whole wait incl. pacing and retries · HTTP: last attempt · "
    "summary: successful calls"
)
RUN_GROUP = "tier-run"
SAMPLE_DRAW_S = 0.25


def _cell(key: str, text: str, marked: bool = False) -> str | Text:
    if marked:
        return Text(text, style=MARK_STYLE, justify="right" if key in NUMERIC else "left")
    return Text(text, justify="right") if key in NUMERIC else text


class TierTable(ResourceTable):
    """A ResourceTable whose columns widen as live figures grow ("9 ms" -> "1.23 s")."""

    def update_cell(self, row_key, column_key, value, *, update_width: bool = True):
        return super().update_cell(row_key, column_key, value, update_width=update_width)


@dataclass
class RunStarted(Message):
    bubble = False  # the pane's own business
    run: TierRun


class SamplesIn(Message):
    """Samples are waiting in the pane's queue. The run posts one only when none is pending,
    and the pane draws at most every SAMPLE_DRAW_S (Toolong's ≤ 4 updates a second), so a fast
    run never floods the UI thread with a message per sample."""

    bubble = False  # the pane's own business


@dataclass
class RunFinished(Message):
    bubble = False  # the pane's own business
    report: TierReport


@dataclass
class RunFailed(Message):
    bubble = False  # the pane's own business
    error: str


class TiersScreen(PaneScreen):
    TITLE = "Tier tester"
    AREA = "tiers"
    DEFAULT_CSS = """
    TiersScreen #summary { height: auto; max-height: 6; }
    TiersScreen #samples { height: 1fr; min-height: 4; }
    TiersScreen #run-title { text-style: bold; }
    TiersScreen #run-prompt { color: $text-muted; }
    TiersScreen #run-status-row { height: 1; }
    TiersScreen #run-status { width: 1fr; }
    TiersScreen #progress { width: 44; }
    TiersScreen #progress Bar { width: 1fr; }
    TiersScreen #legend { color: $text-muted; }
    TiersScreen #recommendation { padding: 0 0 1 0; }
    TiersScreen #note { color: $text-muted; }
    TiersScreen .hint { color: $text-muted; }
    TiersScreen #compare { height: auto; max-height: 6; }
    TiersScreen TabPane { padding: 0; }
    """
    BINDINGS = [
        Binding("n", "new_run", "New run", id="tiers.new"),
        Binding("a", "run_again", "Run again", id="tiers.again"),
        Binding("x", "stop_run", "Stop run", id="tiers.stop"),
        # The tabs are on screen; their keys are in help (?), leaving the footer room.
        Binding("r", "show_tab('run')", "Run tab", id="tiers.run-tab", show=False),
        Binding("p", "show_tab('past')", "Past runs tab", id="tiers.past-tab", show=False),
        Binding("space", "mark", "Mark", id="tiers.mark"),
        Binding("c", "compare", "Compare", id="tiers.compare"),
        Binding("m", "copy_markdown", "Markdown", id="tiers.copy"),
        Binding("d", "delete_run", "Delete", id="tiers.delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: TierReport | None = None
        self._live_run: TierRun | None = None
        self._live_samples: list = []
        self._marked: list[int] = []
        self._past: list[PastRun] = []
        self._last_plan: TierPlan | None = None
        # Filled by the run's thread, drained on the UI thread (deque appends are atomic).
        self._incoming: deque[SampleArrived] = deque()
        self._draw_asked = False
        self.sample_draws: list[float] = []  # monotonic times the live samples were drawn

    # -- layout ---------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="run"):
            with TabPane("Run (r)", id="run"):
                yield EmptyState("no tier runs yet — press n to start one", id="empty")
                yield Static("", id="run-title")
                yield Static("", id="run-prompt")
                with Horizontal(id="run-status-row"):
                    yield Static("", id="run-status")
                    yield ProgressBar(show_eta=False, id="progress")
                yield TierTable(SUMMARY_COLUMNS, id="summary")
                yield Static("", id="legend")
                yield Static("", id="recommendation")
                yield LatencyChart(id="chart")
                yield TierTable(SAMPLE_COLUMNS, id="samples")
                yield Static(LATENCY_NOTE, id="note")
            with TabPane("Past runs (p)", id="past"):
                yield Static(
                    "enter opens a run · space marks two for c (compare) · d deletes",
                    classes="hint",
                )
                yield TierTable(PAST_COLUMNS, id="runs")
            with TabPane("Compare", id="compare-tab"):
                yield Static("mark two runs in Past runs with space, then press c",
                             id="compare-head")
                yield TierTable(COMPARE_COLUMNS, id="compare")
                yield Static("", id="compare-notes")

    def on_mount(self) -> None:
        self._show_run_widgets(False)
        self.query_one("#compare", ResourceTable).display = False

    def _show_run_widgets(self, shown: bool) -> None:
        for selector in ("#run-title", "#run-prompt", "#run-status-row", "#summary", "#legend",
                         "#recommendation", "#chart", "#samples", "#note"):
            self.query_one(selector).display = shown

    # -- reading the store ----------------------------------------------------------------

    def refresh_data(self) -> None:
        live = self._live_run.id if self._live_run else None
        shown = self._shown.run.id if self._shown else None
        ws = self.workspace

        def read() -> tuple[list[PastRun], Any]:
            runs = services.tiers.past_runs(ws)
            wanted = shown or (runs[0].run.id if runs else None)
            # The live run is drawn from its samples as they arrive, not re-read.
            if wanted is None or wanted == live:
                return runs, None
            try:
                return runs, services.tiers.load_report(ws, wanted)
            except LookupError:
                return runs, None

        self.read_in_thread(read, self._apply_read, name="tiers")

    def _apply_read(self, result: tuple[list[PastRun], TierReport | None]) -> None:
        runs, report = result
        self._past = runs
        self._show_past(runs)
        if report is not None:
            self._show_report(report)
        elif self._shown is None and self._live_run is None:
            self.query_one("#empty", EmptyState).show(True)
            self._show_run_widgets(False)

    def _show_past(self, runs: list[PastRun]) -> None:
        self._marked = [m for m in self._marked if any(p.run.id == m for p in runs)]
        table = self.query_one("#runs", ResourceTable)
        table.apply((str(p.run.id), self._past_cells(p)) for p in runs)

    def _past_cells(self, p: PastRun) -> tuple:
        r = p.run
        mark = ""
        if r.id in self._marked:
            mark = "AB"[self._marked.index(r.id)]
        status = r.status if not r.note else f"{r.status}: {r.note}"
        tiers = "all" if r.tiers == "flex,standard,priority" else r.tiers
        return (
            mark, _cell("id", str(r.id)), timestamp(r.created_at), r.model, tiers,
            _cell("runs", str(r.runs_per_tier)), r.run_order, _cell("conc", str(r.concurrency)),
            _cell("samples", f"{p.ok}/{p.done}/{p.total}"), status,
        )

    # -- showing a run --------------------------------------------------------------------

    def _show_report(self, report: TierReport) -> None:
        tiers = services.tiers
        changed = self._shown is None or self._shown.run.id != report.run.id
        self._shown = report
        self.query_one("#empty", EmptyState).show(False)
        self._show_run_widgets(True)
        run = report.run
        self.query_one("#run-title", Static).update(
            f"{tiers.run_title(run)} · started {timestamp(run.created_at)}"
        )
        prompt = " ".join(run.prompt.split())
        self.query_one("#run-prompt", Static).update(
            f"prompt: {prompt[:100]}{'…' if len(prompt) > 100 else ''}"
        )
        cost = f" · spent ${report.cost:.6f}" if report.cost else ""
        self.query_one("#run-status", Static).update(tiers.status_text(report) + cost)
        self.query_one("#progress", ProgressBar).update(total=report.total, progress=report.done)
        marked = report.marks.cells()
        summary = self.query_one("#summary", ResourceTable)
        summary.apply(
            (row["tier"], tuple(
                _cell(key, row[key], (row["tier"], key) in marked) for key, _ in SUMMARY_COLUMNS
            ))
            for row in tiers.summary_cells(report)
        )
        legend = [
            f"{MARK_LEGEND[key]}: {tier}"
            for key in ("avg", "spread", "vs_std")
            for tier, k in marked
            if k == key
        ]
        self.query_one("#legend", Static).update(
            Text("marked: " + " · ".join(legend), style=MARK_STYLE) if legend else ""
        )
        self.query_one("#recommendation", Static).update("\n".join(report.recommendation))
        self.query_one("#chart", LatencyChart).show(
            [
                Series(s.tier, [x.latency_ms for x in report.samples
                                if x.ok and x.tier_asked == s.tier], s.failed)
                for s in report.summaries
            ],
            report.unit,
        )
        samples = self.query_one("#samples", ResourceTable)
        if changed:
            samples.apply(())
        ordered = report.samples if run.status == "running" else tiers.ordered_samples(report)
        samples.apply(
            (str(s.id), tuple(_cell(k, cells[k]) for k, _ in SAMPLE_COLUMNS))
            for s in ordered
            for cells in (tiers.sample_cells(s, report.unit),)
        )
        if run.status != "running":
            rank = {t: i for i, t in enumerate(report.tiers)}
            samples.sort(
                "tier", "run", key=lambda tr: (rank.get(str(tr[0]), 99), int(str(tr[1])))
            )

    # -- a run ----------------------------------------------------------------------------

    def _run_in_progress(self) -> bool:
        return any(w.group == RUN_GROUP and not w.is_finished for w in self.workers)

    def action_new_run(self) -> None:
        self._open_form(self._form_values())

    def action_run_again(self) -> None:
        if self._shown is None:
            self.flash("no run shown to repeat — press n for a new one", "warning")
            return
        run = self._shown.run
        self._open_form(FormValues(
            model=run.model, prompt=run.prompt, tiers=tuple(run.tiers.split(",")),
            runs_per_tier=run.runs_per_tier, order=run.run_order, concurrency=run.concurrency,
            retry_flex=run.retry_flex,
            timeouts=self._form_values().timeouts | services.tiers.plan_timeouts(run),
        ))

    def _form_values(self) -> FormValues:
        plan = self._last_plan
        if plan is not None:
            return FormValues(
                model=plan.model, prompt=plan.prompt, tiers=plan.tiers,
                runs_per_tier=plan.runs_per_tier, order=plan.order,
                concurrency=plan.concurrency, retry_flex=plan.retry_flex,
                timeouts=dict(plan.timeouts),
            )
        gemini = self.workspace.settings.gemini
        return FormValues(
            model=gemini.default_model,
            timeouts={"flex": gemini.flex_timeout_s, "standard": gemini.timeout_s,
                      "priority": gemini.timeout_s},
        )

    def _open_form(self, values: FormValues) -> None:
        if self._run_in_progress():
            self.flash("a run is in progress — x stops it", "warning")
            return
        self.app.push_screen(TierRunForm(values), self._start_plan)

    def _start_plan(self, plan: TierPlan | None, allowance: float = 0.0) -> None:
        if plan is None:
            return
        self._last_plan = plan
        self.flash(f"starting: {plan.total} calls on {plan.model} "
                   f"({', '.join(plan.tiers)})…")
        self.run_worker(
            lambda: self._run_plan(plan, allowance), thread=True, group=RUN_GROUP, exclusive=True,
            exit_on_error=False, description=f"tier run on {plan.model}",
        )

    def _run_plan(self, plan: TierPlan, allowance: float = 0.0) -> None:
        """In a thread: the run posts messages; the handlers below draw them."""
        from console.services import budget

        worker = get_current_worker()
        try:  # over the spend budget: ask first (nothing is sent until a yes)
            budget.before_action(self.workspace, budget.estimate_tier_plan(self.workspace, plan),
                                 allowance)
        except budget.OverBudget as refusal:
            self.app.call_from_thread(ask_over_budget, self.app, refusal,
                                      lambda allow: self._start_plan(plan, allow))
            return

        def started(run: TierRun) -> None:
            self.post_message(RunStarted(run))

        try:
            report = services.tiers.run_tier_test(
                self.workspace, plan,
                on_start=started,
                on_sample=self._sample_arrived,
                # Set when the user stops the run or the console quits.
                stop=worker.cancelled_event,
            )
        except Exception as error:
            self.post_message(RunFailed(str(error) or type(error).__name__))
            return
        self.post_message(RunFinished(report))

    @on(RunStarted)
    def _run_started(self, message: RunStarted) -> None:
        self._live_run = message.run
        self._live_samples = []
        self._show_report(services.tiers.build_report(message.run, []))
        self.action_show_tab("run")
        self.refresh_data()

    def _sample_arrived(self, event: SampleArrived) -> None:
        """In the run's thread: queue the sample; ask for a draw unless one is asked."""
        self._incoming.append(event)
        if not self._draw_asked:
            self._draw_asked = True
            self.post_message(SamplesIn())

    @on(SamplesIn)
    def _samples_in(self, _message: SamplesIn) -> None:
        wait = (self.sample_draws[-1] + SAMPLE_DRAW_S - time.monotonic()
                if self.sample_draws else 0.0)
        if wait > 0:
            self.set_timer(wait, self._draw_samples)
        else:
            self._draw_samples()

    def _draw_samples(self) -> None:
        self._draw_asked = False  # before draining: a sample queued from now asks again
        events = []
        while self._incoming:
            events.append(self._incoming.popleft())
        live = self._live_run
        fresh = [e.sample for e in events if live is not None and e.run.id == live.id]
        if not fresh or live is None:
            return
        self.sample_draws.append(time.monotonic())
        self._live_samples.extend(fresh)
        if self._shown is not None and self._shown.run.id == live.id:
            self._show_report(services.tiers.build_report(live, self._live_samples))

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        report = message.report
        self._live_run = None
        if self._shown is None or self._shown.run.id == report.run.id:
            self._show_report(report)
        headline = report.recommendation[0] if report.recommendation else ""
        self.flash(f"tier run #{report.run.id} {report.run.status}. {headline}")
        self.refresh_data()

    @on(RunFailed)
    def _run_failed(self, message: RunFailed) -> None:
        self._live_run = None
        self.flash(f"tier run failed: {message.error}", "error")
        self.refresh_data()

    def action_stop_run(self) -> None:
        workers = [w for w in self.workers if w.group == RUN_GROUP and not w.is_finished]
        if not workers:
            self.flash("no run in progress", "warning")
            return
        for worker in workers:
            worker.cancel()
        self.flash("stopping — completed samples are kept")

    # -- past runs and comparing ----------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        # The tab's table takes the keys: arrows, enter, space.
        table = {"run": "#samples", "past": "#runs", "compare-tab": "#compare"}[tab]
        self.query_one(table).focus()

    def _selected_past(self) -> int | None:
        key = self.query_one("#runs", ResourceTable).selected_key
        return int(key) if key else None

    @on(DataTable.RowSelected, "#runs")
    def _open_past(self, event: DataTable.RowSelected) -> None:
        run_id = int(str(event.row_key.value))
        ws = self.workspace

        def show(report: TierReport) -> None:
            self._show_report(report)
            self.action_show_tab("run")

        if self._live_run is not None and self._live_run.id == run_id:
            show(services.tiers.build_report(self._live_run, self._live_samples))
            return
        self.read_in_thread(lambda: services.tiers.load_report(ws, run_id), show, name="tiers-open")

    def action_mark(self) -> None:
        run_id = self._selected_past()
        if self.query_one(TabbedContent).active != "past" or run_id is None:
            self.flash("marking works on the Past runs tab (p)", "warning")
            return
        if run_id in self._marked:
            self._marked.remove(run_id)
        else:
            self._marked = [*self._marked, run_id][-2:]
        self._show_past(self._past)

    def action_compare(self) -> None:
        if len(self._marked) != 2:
            self.flash(f"mark two runs with space on Past runs ({len(self._marked)} marked)",
                       "warning")
            return
        a, b = sorted(self._marked)  # A is the earlier run: B's change reads forward in time
        ws = self.workspace
        self.read_in_thread(
            lambda: (services.tiers.load_report(ws, a), services.tiers.load_report(ws, b)),
            self._show_compare,
            name="tiers-compare",
        )

    def _show_compare(self, reports: tuple[TierReport, TierReport]) -> None:
        tiers = services.tiers
        a, b = reports
        self.query_one("#compare-head", Static).update(
            f"A = {tiers.run_title(a.run)} · {timestamp(a.run.created_at)}\n"
            f"B = {tiers.run_title(b.run)} · {timestamp(b.run.created_at)}"
        )
        table = self.query_one("#compare", ResourceTable)
        table.display = True
        table.apply(
            (row["tier"], tuple(_cell(k, row[k]) for k, _ in COMPARE_COLUMNS))
            for row in tiers.compare_cells(a, b)
        )
        notes = [f"A: {line}" for line in a.recommendation]
        notes += [f"B: {line}" for line in b.recommendation]
        self.query_one("#compare-notes", Static).update("\n".join(notes))
        self.action_show_tab("compare-tab")

    def action_copy_markdown(self) -> None:
        if self._shown is None:
            self.flash("no run to copy", "warning")
            return
        self.app.copy_to_clipboard(services.tiers.render(self._shown, "markdown"))
        self.flash(f"copied tier run #{self._shown.run.id} as Markdown")

    def action_delete_run(self) -> None:
        on_past = self.query_one(TabbedContent).active == "past"
        run_id = self._selected_past() if on_past else (
            self._shown.run.id if self._shown else None
        )
        if run_id is None:
            self.flash("no run selected", "warning")
            return
        if self._live_run is not None and self._live_run.id == run_id:
            self.flash("that run is in progress — x stops it first", "warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(run_id)

        self.app.push_screen(
            ConfirmScreen(f"Delete tier run #{run_id} and all its samples?", "Delete"), confirmed
        )

    def _delete(self, run_id: int) -> None:
        ws = self.workspace

        def done(deleted: bool) -> None:
            if self._shown is not None and self._shown.run.id == run_id:
                self._shown = None
                self.query_one("#summary", ResourceTable).apply(())
                self.query_one("#samples", ResourceTable).apply(())
            self.flash(f"deleted tier run #{run_id}" if deleted else f"run #{run_id} was gone")
            self.refresh_data()

        self.read_in_thread(
            lambda: services.tiers.delete_run(ws, run_id), done, name="tiers-delete"
        )
