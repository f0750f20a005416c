"""The caches pane: live explicit caches with a countdown, their storage cost and what they
saved; create, extend and delete them; implicit vs explicit cache hit rates from the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label, ProgressBar, Static
from textual.widgets.data_table import ColumnKey

from console.tui import services
from console.tui.formatting import duration, money, timestamp, tokens
from console.tui.screens.base import PaneScreen
from console.tui.screens.cache_dialogs import (
    CacheDetailScreen,
    CacheFormScreen,
    ExtendScreen,
)
from console.tui.screens.confirm import ConfirmScreen, ask_over_budget
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable

# Labels end in a space that becomes ▲ / ▼ on the sorted column, so no width changes.
COLUMNS = [
    # What a cache costs and saves comes right after its name: at 80 columns those stay on
    # screen and the descriptive columns scroll off to the right.
    ("display_name", "Name  "),
    ("expires_in", "Expires  "),
    ("storage", "Storage  "),
    ("per_hour", "$/hour  "),
    ("saved", "Saved  "),
    ("calls", "Calls  "),
    ("model", "Model  "),
    ("tokens", "Tokens  "),
    ("created", "Created  "),
]
HIT_COLUMNS = [
    ("group", "Group"),
    ("kind", "Kind"),
    ("rate", "Hit rate"),
    ("saved", "Saved"),
    ("calls", "Calls"),
    ("prompt", "Prompt tokens"),
    ("cached", "Cached tokens"),
    ("last", "Last call"),
]
# How each column sorts: (value of a view at `now`, whether the first press sorts descending).
SORTS: dict[str, tuple[Callable[[Any, float], Any], bool]] = {
    "expires_in": (lambda v, now: v.cache.expires_at or float("inf"), False),
    "display_name": (lambda v, now: (v.cache.display_name or v.name).lower(), False),
    "model": (lambda v, now: (v.cache.model, v.cache.expires_at or 0), False),
    "tokens": (lambda v, now: v.cache.total_tokens, True),
    "created": (lambda v, now: v.cache.created_at or 0, True),
    "storage": (lambda v, now: v.storage_so_far(now) or 0, True),
    "per_hour": (lambda v, now: v.per_hour or 0, True),
    "calls": (lambda v, now: v.calls, True),
    "saved": (lambda v, now: v.saved, True),
}
SOON_S = 300  # an expiry this close is shown as a warning
NAME_WIDTH = 26
EMPTY = (
    "no caches yet — press n to create one\n\n"
    "An explicit cache holds a large shared context (documents, a long system instruction)\n"
    "that many calls reuse: cached tokens bill at a fraction of the input price, plus\n"
    "storage per hour. A cache has a minimum size: 1,024 tokens on Flash, 4,096 on Pro."
)


def _when(at: float | None) -> str:
    """Compact UTC time for table cells (the detail view has the full date)."""
    return "—" if at is None else datetime.fromtimestamp(at, UTC).strftime("%m-%d %H:%M")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class KeyedText(Text):
    """A name cell that knows its row: DataTable.sort hands a key function cells, not keys."""

    def __init__(self, text: str, row_key: str) -> None:
        super().__init__(text, no_wrap=True, overflow="ellipsis")
        self.row_key = row_key


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


class CachesScreen(PaneScreen):
    TITLE = "Caches"
    AREA = "caches"
    DEFAULT_CSS = """
    CachesScreen #filter { display: none; height: 1; border: none; padding: 0 1; }
    CachesScreen #filter.shown { display: block; }
    CachesScreen .section { color: $text-muted; height: auto; }
    CachesScreen #caches { height: auto; max-height: 65%; }
    CachesScreen #hits-title { margin-top: 1; color: $accent; }
    CachesScreen #hits { height: auto; max-height: 9; }
    CachesScreen #hits-advice { color: $warning; height: auto; }
    CachesScreen #progress { display: none; height: 1; }
    CachesScreen #progress.shown { display: block; }
    CachesScreen #progress-text { width: auto; padding: 0 1 0 0; }
    """
    BINDINGS = [
        Binding("n", "create", "New", id="caches.create"),
        Binding("e", "extend", "Extend TTL", id="caches.extend"),
        Binding("d", "delete", "Delete", id="caches.delete"),
        Binding("enter", "detail", "Detail", id="caches.detail"),
        Binding("slash", "filter", "Filter", key_display="/", id="caches.filter"),
        Binding("s", "sort", "Sort", id="caches.sort"),
        Binding("S", "reverse", "Reverse sort", id="caches.reverse", show=False),
        Binding("g", "hits_by", "Hits by prefix", id="caches.hits"),
        Binding("escape", "clear_filter", "Clear filter", id="caches.clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, Any] = {}
        self._sort = "expires_in"
        self._reverse = False
        self._filter = ""
        self._hits_by: Literal["model", "prefix"] = "model"
        # A create that failed keeps what was typed, so `n` opens the form with it again.
        self._draft: Any = None
        self._busy: str | None = None

    def compose_body(self) -> ComposeResult:
        # Disabled (so never focused) until `/` opens it.
        yield Input(placeholder="filter by name or model — escape clears", id="filter",
                    disabled=True)
        yield Static("", id="caches-summary", classes="section")
        yield EmptyState(EMPTY, id="empty")
        yield ResourceTable(COLUMNS, id="caches")
        yield Static("", id="hits-title", classes="section")
        yield EmptyState("", id="hits-empty")
        yield ResourceTable(HIT_COLUMNS, id="hits")
        yield Static("", id="hits-advice")
        with Horizontal(id="progress"):
            yield Label("", id="progress-text")
            yield ProgressBar(id="progress-bar", show_eta=False)

    def on_mount(self) -> None:
        self.query_one("#caches", ResourceTable).display = False
        self.query_one("#hits", ResourceTable).display = False
        # The countdown: cells recomputed from the records in memory, not from SQLite.
        self.set_interval(1.0, self._render_caches)

    # -- reading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        ws, by = self.workspace, self._hits_by

        def read() -> tuple[list[Any], list[Any], str | None, str]:
            rows = services.caches.hit_rates(ws, by=by)
            return services.caches.cache_views(ws), rows, services.caches.hit_advice(ws, rows), by

        self.read_in_thread(read, self._show, name="caches")

    def _show(self, data: tuple[list[Any], list[Any], str | None, str]) -> None:
        views, hits, advice, by = data
        self._views = {v.name: v for v in views}
        self._render_caches()
        self._sort_table()
        if by == self._hits_by:
            self._render_hits(hits, advice)

    # -- the caches table ----------------------------------------------------------------

    def _visible(self) -> list[Any]:
        needle = self._filter.lower()
        if not needle:
            return list(self._views.values())
        return [
            v
            for v in self._views.values()
            if needle in f"{v.cache.display_name} {v.name} {v.cache.model}".lower()
        ]

    def _cells(self, v: Any, now: float) -> tuple:
        c = v.cache
        left = v.expires_in(now)
        if left is None:
            expires = Text("—")
        elif left <= 0:
            expires = Text("expired", style="dim")
        else:
            expires = Text(duration(left), style="bold yellow" if left < SOON_S else "")
        storage = v.storage_so_far(now)
        return (
            KeyedText(
                _clip(c.display_name or c.name.removeprefix("cachedContents/"), NAME_WIDTH),
                c.name,
            ),
            expires,
            _right("—" if storage is None else money(storage)),
            _right("—" if v.per_hour is None else money(v.per_hour)),
            _right(money(v.saved), "green" if v.saved > 0 else ""),
            _right(f"{v.calls:,}"),
            Text(c.model),
            _right(f"{c.total_tokens:,}"),
            Text(_when(c.created_at)),
        )

    def _render_caches(self) -> None:
        if not self.is_mounted:
            return
        now = self.app.clock()
        visible = self._visible()
        table = self.query_one("#caches", ResourceTable)
        known = set(table.row_keys)
        table.apply((v.name, self._cells(v, now)) for v in visible)
        if set(table.row_keys) - known:
            self._sort_table()
            if not known:
                table.move_cursor(row=0)
        table.display = bool(visible)
        if self._views and not visible:
            message = f"no caches match “{self._filter}” — escape clears the filter"
        else:
            message = EMPTY
        self.query_one("#empty", EmptyState).show(not visible, message)
        self._render_summary(now)

    def _render_summary(self, now: float) -> None:
        views = list(self._views.values())
        summary = self.query_one("#caches-summary", Static)
        summary.display = bool(views)
        if not views:
            return
        per_hour = sum(v.per_hour or 0 for v in views)
        so_far = sum(v.storage_so_far(now) or 0 for v in views)
        calls = sum(v.calls for v in views)
        saved = sum(v.saved for v in views)
        count = f"{len(views)} active cache{'s' if len(views) != 1 else ''}"
        shown = f" ({len(self._visible())} shown)" if self._filter else ""
        summary.update(
            Text(
                f"{count}{shown} · {tokens(sum(v.cache.total_tokens for v in views))} tokens · "
                f"storage {money(per_hour)}/h, {money(so_far)} so far · "
                f"{calls:,} calls saved {money(saved)}"
            )
        )

    def _sort_table(self) -> None:
        table = self.query_one("#caches", ResourceTable)
        for key, label in COLUMNS:
            if key == self._sort:
                label = label[:-1] + ("▼" if self._reverse else "▲")
            table.columns[ColumnKey(key)].label = Text(label)
        if not table.row_count:
            return
        selected = table.selected_key
        value, _ = SORTS[self._sort]
        now = self.app.clock()
        views = self._views
        table.sort(
            "display_name",
            key=lambda cell: value(views[cell.row_key], now),
            reverse=self._reverse,
        )
        if selected is not None and selected in table.row_keys:
            table.move_cursor(row=table.get_row_index(selected))

    def action_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        self._set_sort(keys[(keys.index(self._sort) + 1) % len(keys)])

    def action_reverse(self) -> None:
        self._reverse = not self._reverse
        self._sort_table()

    @on(DataTable.HeaderSelected, "#caches")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key == self._sort:
            self.action_reverse()
        elif key in SORTS:
            self._set_sort(key)

    def _set_sort(self, key: str) -> None:
        self._sort = key
        self._reverse = SORTS[key][1]
        self._sort_table()
        label = dict(COLUMNS)[key].strip().lower()
        self.flash(f"sorted by {label}, {'descending' if self._reverse else 'ascending'}")

    # -- filter --------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.disabled = False
        box.add_class("shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._render_caches()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#caches", ResourceTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.has_class("shown"):
            self.action_leave_field()
            return
        box.value = ""
        box.remove_class("shown")
        box.disabled = True
        self._filter = ""
        self._render_caches()
        self.query_one("#caches", ResourceTable).focus()

    # -- hit rates -----------------------------------------------------------------------

    def _render_hits(self, rows: list[Any], advice: str | None) -> None:
        by_prefix = self._hits_by == "prefix"
        other = "model" if by_prefix else "prompt prefix"
        self.query_one("#hits-title", Static).update(
            f"Cache hits, last 7 days — by {'prompt prefix' if by_prefix else 'model'}"
            f" (g: by {other}) · hit rate = cached ÷ prompt tokens"
        )
        table = self.query_one("#hits", ResourceTable)
        table.apply(
            (
                f"{r.kind}|{r.group}",
                (
                    Text(
                        _clip(f"prefix {r.group} · {', '.join(r.models)}", 44)
                        if by_prefix
                        else r.group
                    ),
                    Text(r.kind, style="cyan" if r.kind == "explicit" else ""),
                    _right(f"{r.rate:.1%}", "bold" if r.rate >= 0.5 else ""),
                    _right(money(r.saved), "green" if r.saved > 0 else ""),
                    _right(f"{r.calls:,}"),
                    _right(f"{r.prompt_tokens:,}"),
                    _right(f"{r.cached_tokens:,}"),
                    Text(_when(r.last_at)),
                ),
            )
            for r in rows
        )
        table.display = bool(rows)
        self.query_one("#hits-empty", EmptyState).show(
            not rows,
            "no successful calls in the last 7 days — hit rates appear as calls go through gemops",
        )
        self.query_one("#hits-advice", Static).update(Text(advice or ""))

    def action_hits_by(self) -> None:
        self._hits_by = "prefix" if self._hits_by == "model" else "model"
        self.refresh_data()

    # -- actions on a cache --------------------------------------------------------------

    def _selected(self) -> Any | None:
        key = self.query_one("#caches", ResourceTable).selected_key
        view = self._views.get(key) if key else None
        if view is None:
            self.flash("no cache selected", "warning")
        return view

    def select(self, name: str) -> bool:
        """Put the cursor on a cache (the palette opens one by name); clears a filter hiding it."""
        table = self.query_one("#caches", ResourceTable)
        if name not in table.row_keys and self._filter:
            self.action_clear_filter()
        if name not in table.row_keys:
            return False
        table.move_cursor(row=table.get_row_index(name))
        return True

    def _title(self, view: Any) -> str:
        return view.cache.display_name or view.name

    def action_detail(self) -> None:
        view = self._selected()
        if view is not None:
            self.app.push_screen(CacheDetailScreen(view, self.app.clock()))

    @on(DataTable.RowSelected, "#caches")
    def _row_selected(self) -> None:
        self.action_detail()

    def action_create(self) -> None:
        if self._refuse_while_busy():
            return
        ws = self.workspace

        def read() -> tuple[list[str], dict[str, int]]:
            models = services.caches.cache_models(ws)
            return models, {m: services.caches.minimum_tokens(ws, m) for m in models}

        self.read_in_thread(read, self._open_form, name="cache-models")

    def _open_form(self, found: tuple[list[str], dict[str, int]]) -> None:
        models, minimums = found
        form = CacheFormScreen(
            models=models, minimums=minimums, inspect=services.caches.inspect_files,
            draft=self._draft,
        )
        self.app.push_screen(form, self._create)

    def _create(self, draft: Any, allowance: float = 0.0) -> None:
        if draft is None:
            return
        ws = self.workspace
        self._draft = draft

        def work() -> tuple[str, str]:
            from console.services import budget

            def progress(text: str, done: int, total: int) -> None:
                self.app.call_from_thread(self._progress, text, done, total)

            try:  # over the spend budget: ask first (nothing is sent until a yes)
                budget.before_action(ws, budget.estimate_cache(ws, draft), allowance)
            except budget.OverBudget as refusal:
                self.app.call_from_thread(ask_over_budget, self.app, refusal,
                                          lambda allow: self._create(draft, allow))
                return f"not created yet: {refusal}", "warning"
            cache = services.caches.create(ws, draft, progress)
            self._draft = None
            left = (cache.expires_at or 0) - ws.clock()
            return (
                f"created {cache.display_name or cache.name} — {cache.total_tokens:,} tokens, "
                f"expires in {duration(left)}",
                "information",
            )

        self._run("creating cache", work, retry_hint=" (n to edit and retry)")

    def action_extend(self) -> None:
        if self._refuse_while_busy():
            return
        view = self._selected()
        if view is None:
            return

        def extend_by(seconds: float | None) -> None:
            if seconds is None:
                return
            ws = self.workspace

            def work() -> tuple[str, str]:
                cache = services.caches.extend(ws, view.name, by_s=seconds)
                left = (cache.expires_at or 0) - ws.clock()
                return (
                    f"extended {self._title(view)}: expires {timestamp(cache.expires_at)} UTC "
                    f"(in {duration(left)})",
                    "information",
                )

            self._run("extending", work)

        self.app.push_screen(
            ExtendScreen(self._title(view), view.cache.expires_at, self.app.clock()), extend_by
        )

    def action_delete(self) -> None:
        if self._refuse_while_busy():
            return
        view = self._selected()
        if view is None:
            return
        left = view.expires_in(self.app.clock())
        question = Text.assemble(
            "Delete cache ",
            (self._title(view), "bold"),
            f"? {view.cache.total_tokens:,} tokens",
            f", expires in {duration(left)}" if left and left > 0 else "",
        )

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            ws = self.workspace

            def work() -> tuple[str, str]:
                services.caches.delete(ws, view.name)
                return f"deleted {self._title(view)}", "information"

            self._run("deleting", work)

        self.app.push_screen(ConfirmScreen(question, "Delete"), confirmed)

    # -- running an operation ------------------------------------------------------------

    def _refuse_while_busy(self) -> bool:
        if self._busy:
            self.flash(f"wait: {self._busy} is still running", "warning")
        return self._busy is not None

    def _run(self, what: str, work: Callable[[], tuple[str, str]], retry_hint: str = "") -> None:
        """Run a cache operation in a thread; its outcome (API errors included) is a flash."""
        self._busy = what
        self._progress(f"{what}…", 0, None)

        def run() -> None:
            from console.services.caches import CacheGone, describe_error

            try:
                message, severity = work()
            except CacheGone as gone:
                message = f"{gone} — removed from the table"
                severity = "warning"
            except Exception as error:  # every API or input error is shown, never a crash
                message, severity = describe_error(error) + retry_hint, "error"
            self.app.call_from_thread(self._finished, message, severity)

        self.run_worker(run, thread=True, group="cache-op", exit_on_error=False, description=what)

    def _progress(self, text: str, done: int, total: int | None) -> None:
        self.query_one("#progress", Horizontal).add_class("shown")
        self.query_one("#progress-text", Label).update(text)
        self.query_one("#progress-bar", ProgressBar).update(total=total, progress=done)

    def _finished(self, message: str, severity: str) -> None:
        self._busy = None
        self.query_one("#progress", Horizontal).remove_class("shown")
        self.flash(message, severity)
        self.refresh_data()
