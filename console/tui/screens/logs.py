"""The logs pane: sanitized interactions, filterable by label, model, source and date; one in
full; the filter's count and token totals; the filter exported with a progress bar."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from console.tui import services
from console.tui.formatting import money, timestamp, tokens
from console.tui.screens.base import PaneScreen
from console.tui.screens.empty import EmptyState
from console.tui.screens.log_detail import InteractionDetail
from console.tui.screens.log_export import ExportDialog, ExportRequest
from console.tui.widgets.resource_table import ResourceTable

# The newest rows of the filter are listed; the totals line covers all of them.
PAGE = 500
PROGRESS_DRAW_S = 0.25  # export progress reaches the UI thread at most this often
COLUMNS = [
    ("id", "#"),
    ("at", "Time"),
    ("model", "Model"),
    ("tier", "Tier"),
    ("source", "Source"),
    ("labels", "Labels"),
    ("tokens", "In/out"),
    ("prompt", "Prompt (sanitized)"),
]


class LogsScreen(PaneScreen):
    TITLE = "Logged interactions"
    AREA = "logs"
    # The table, not the first filter field, has the keys: letters are bindings until `/`.
    AUTO_FOCUS = "#interactions"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", key_display="/", id="logs.filter"),
        Binding("c", "clear_filter", "Clear filter", id="logs.clear"),
        Binding("e", "export", "Export", id="logs.export"),
        Binding("x", "stop_export", "Stop export", id="logs.stop_export"),
        Binding("l", "toggle_logging", "Logging on/off", id="logs.toggle"),
        Binding("v", "view", "View", id="logs.view"),
    ]
    DEFAULT_CSS = """
    /* One-line fields: three to a row at 80 columns, all five in a row when wide. */
    LogsScreen #filters {
        height: auto; grid-size: 3; grid-rows: 1; grid-gutter: 0 1; padding: 0 1 1 1;
    }
    LogsScreen.-wide #filters { grid-size: 5; grid-columns: 2fr 1fr 1fr 1fr 1fr; }
    LogsScreen #filters Input, LogsScreen #filters Select { width: 1fr; }
    LogsScreen #totals { padding: 0 1; height: auto; }
    LogsScreen #export-row { height: 1; padding: 0 1; display: none; }
    LogsScreen #export-row.running { display: block; }
    LogsScreen #export-label { width: auto; padding-right: 1; }
    """

    def compose_body(self) -> ComposeResult:
        self._choices: dict[str, list[str]] = {"models": [], "sources": []}
        self._filter: Any = None
        self._totals_count = 0
        self._stop_export: threading.Event | None = None
        self._shown_criteria: dict[str, Any] | None = None
        self._shown_newest: int | None = None
        with Grid(id="filters"):
            yield Input(placeholder="/ label=value or text", id="filter-query",
                        compact=True)
            yield Select([], prompt="any model", id="filter-model", compact=True)
            yield Select([], prompt="any source", id="filter-source", compact=True)
            yield Input(placeholder="since: date, 7d", id="filter-since", compact=True)
            yield Input(placeholder="until: date", id="filter-until", compact=True)
        yield Static("", id="totals")
        with Horizontal(id="export-row"):
            yield Static("exporting", id="export-label")
            yield ProgressBar(id="export-progress", show_eta=False)
        yield EmptyState("", id="empty")
        yield ResourceTable(COLUMNS, id="interactions")

    # -- reading ------------------------------------------------------------------------

    def _criteria(self) -> dict[str, Any]:
        def selected(widget_id: str) -> str | None:
            value = self.query_one(widget_id, Select).value
            return None if value == Select.NULL else str(value)

        return {
            "query": self.query_one("#filter-query", Input).value,
            "model": selected("#filter-model"),
            "source": selected("#filter-source"),
            "since": self.query_one("#filter-since", Input).value.strip() or None,
            "until": self.query_one("#filter-until", Input).value.strip() or None,
        }

    def refresh_data(self, *, force: bool = False) -> None:
        criteria = self._criteria()
        # The same filter over the same rows needs no new read (a sync tick asks every few
        # seconds), unless it covers a span back from now, which moves with the clock.
        relative = any(
            (criteria[k] or "")[-1:] in ("d", "h", "m") for k in ("since", "until")
        )
        unchanged = not force and not relative and self._shown_criteria == criteria
        unless = self._shown_newest if unchanged else None
        self.read_in_thread(
            lambda: services.interactions.log_view(
                self.workspace, limit=PAGE, unless_newest=unless, **criteria
            ),
            lambda view: self._show(view, criteria),
            name="logs",
        )

    def _show(self, view: Any, criteria: dict[str, Any]) -> None:
        if view is None:
            return
        self._shown_criteria, self._shown_newest = criteria, view.newest_id
        self._filter = view.filter
        self._totals_count = view.totals.count
        self._update_choices(view.choices)
        self._show_totals(view)
        filtered = any(criteria.values())
        if filtered:
            empty = "no logged interactions match this filter — c clears it"
        elif view.logging_on:
            empty = "no interactions logged yet — calls made from now on are logged here"
        else:
            empty = (
                "no interactions logged yet — logging is off: press l to log this session, "
                "or set logging.enabled = true"
            )
        rows = view.interactions
        self.query_one("#empty", EmptyState).show(not rows, empty)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                str(i.id),
                (
                    str(i.id),
                    timestamp(i.at),
                    i.model,
                    i.tier,
                    i.source,
                    " ".join(f"{k}={v}" for k, v in sorted(i.labels.items())),
                    f"{tokens(i.prompt_tokens)}/{tokens(i.output_tokens)}",
                    view.previews.get(i.id, ""),
                ),
            )
            for i in rows
        )
        order = [int(str(row.key.value)) for row in table.ordered_rows]
        if order != sorted(order, reverse=True):
            # `apply` appends new rows: put them first, as the page was read, cursor kept.
            selected = table.selected_key
            table.sort("id", key=int, reverse=True)
            if selected is not None:
                table.move_cursor(row=table.get_row_index(selected))
        table.display = table.row_count > 0

    def _show_totals(self, view: Any) -> None:
        t = view.totals
        shown = f"newest {len(view.interactions):,} of " if t.count > len(view.interactions) else ""
        settings = self.workspace.settings.logging
        if view.logging_on:
            every = f", every {settings.sample_every}th call" if settings.sample_every > 1 else ""
            state = f"logging on{every}"
        else:
            state = "logging off"
        self.query_one("#totals", Static).update(
            f"{shown}{t.count:,} interaction{'' if t.count == 1 else 's'} · "
            f"{tokens(t.prompt_tokens)} in / "
            f"{tokens(t.output_tokens)} out / {tokens(t.thought_tokens)} thought tokens · "
            f"{money(t.cost)}   [{state} — l toggles]"
        )

    def _update_choices(self, choices: dict[str, list[str]]) -> None:
        for key, widget_id in (("models", "#filter-model"), ("sources", "#filter-source")):
            values = choices.get(key, [])
            if values == self._choices.get(key):
                continue
            self._choices[key] = values
            select = self.query_one(widget_id, Select)
            current = select.value
            with self.prevent(Select.Changed):
                select.set_options([(v, v) for v in values])
                if current != Select.NULL and current in values:
                    select.value = current

    # -- filtering ----------------------------------------------------------------------

    @on(Input.Submitted, "#filters Input")
    def _filter_submitted(self) -> None:
        # As with k9s' `/`: enter applies the filter and hands the keys back to the table.
        self.query_one(ResourceTable).focus()
        self.refresh_data()

    @on(Select.Changed, "#filters Select")
    def _filter_changed(self) -> None:
        self.refresh_data()

    def action_focus_filter(self) -> None:
        self.query_one("#filter-query", Input).focus()

    def action_clear_filter(self) -> None:
        for widget_id in ("#filter-query", "#filter-since", "#filter-until"):
            self.query_one(widget_id, Input).value = ""
        with self.prevent(Select.Changed):
            for widget_id in ("#filter-model", "#filter-source"):
                self.query_one(widget_id, Select).clear()
        self.query_one(ResourceTable).focus()
        self.refresh_data()

    # -- one interaction ----------------------------------------------------------------

    @on(DataTable.RowSelected, "#interactions")
    def _row_selected(self) -> None:
        self.action_view()

    def action_view(self) -> None:
        key = self.query_one(ResourceTable).selected_key
        if key is None:
            self.flash("no interaction selected", "warning")
            return
        interaction_id = int(key)

        def read() -> str | None:
            found = services.interactions.get_interaction(self.workspace, interaction_id)
            return None if found is None else services.interactions.render_interaction(found)

        def show(text: str | None) -> None:
            if text is None:
                self.flash(f"interaction {interaction_id} is gone", "warning")
                return
            self.app.push_screen(InteractionDetail(text, interaction_id))

        self.read_in_thread(read, show, name="interaction")

    # -- logging toggle -----------------------------------------------------------------

    def action_toggle_logging(self) -> None:
        def toggle() -> bool:
            from console.services.interactions import logging_enabled

            turned_on = not logging_enabled(self.workspace)
            services.interactions.set_session_logging(self.workspace, turned_on)
            return turned_on

        def done(turned_on: bool) -> None:
            self.flash(
                "logging on for this session: calls are redacted and logged"
                if turned_on
                else "logging off for this session",
            )
            self.refresh_data(force=True)

        self.read_in_thread(toggle, done, name="logging toggle")

    # -- export -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden unless an export runs; while one runs, another waits (shown disabled).
        exporting = self._stop_export is not None
        if action == "stop_export":
            return exporting
        if action == "export" and exporting:
            return None
        return True

    def action_export(self) -> None:
        if self._filter is None or self._totals_count == 0:
            self.flash("nothing to export: no logged interactions match the filter", "warning")
            return
        stem = "interactions-" + datetime.fromtimestamp(self.app.clock(), UTC).strftime(
            "%Y%m%d-%H%M"
        )
        self.app.push_screen(
            ExportDialog(f"{self._totals_count:,} interactions (the current filter)", stem),
            self._start_export,
        )

    def _start_export(self, request: ExportRequest | None) -> None:
        if request is None:
            return
        flt = self._filter
        stop = self._stop_export = threading.Event()
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=self._totals_count, progress=0)
        self.query_one("#export-label", Static).update(f"exporting {request.fmt} → {request.path}")
        self.query_one("#export-row").add_class("running")
        self.refresh_bindings()

        last = [0.0]

        def progress(done: int, total: int) -> None:
            # At most 4 updates a second reach the UI thread (and the last one always).
            now = time.monotonic()
            if done < total and now - last[0] < PROGRESS_DRAW_S:
                return
            last[0] = now
            self.app.call_from_thread(bar.update, total=total, progress=done)

        def work() -> None:
            try:
                summary = services.export.export_interactions(
                    self.workspace, request.path, fmt=request.fmt, flt=flt,
                    progress=progress, should_stop=stop.is_set,
                )
            except Exception as error:  # shown on the flash line, never a crash
                self.app.call_from_thread(self._export_finished, f"export failed: {error}", "error")
                return
            self.app.call_from_thread(self._export_finished, summary.line(), "information")

        self.run_worker(
            work, thread=True, group="export", exclusive=True, exit_on_error=False,
            description="export interactions",
        )

    def _export_finished(self, text: str, severity: str) -> None:
        self._stop_export = None
        self.query_one("#export-row").remove_class("running")
        self.refresh_bindings()
        self.flash(text, severity)

    def action_stop_export(self) -> None:
        if self._stop_export is not None:
            self._stop_export.set()
