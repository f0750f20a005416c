"""The costs pane: spend and savings today and over 7 days by model, tier or mode, from the
ledger; and the what-if calculator: a workload's cost on every lever, the cheapest marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from console.services.pricing import PriceTable, ScenarioCost, Workload, compare
from console.tui import services
from console.tui.formatting import money, saving
from console.tui.screens.base import PaneScreen
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable
from store.records import SpendRow

if TYPE_CHECKING:
    from store.repos.ledger import Grouping

GROUPINGS: tuple[Grouping, ...] = ("model", "tier", "mode", "day")
COLUMNS = [
    ("group", "Group"),
    ("today", "Today"),
    ("saved_today", "Saved today"),
    ("week", "7 days"),
    ("saved_week", "Saved 7 days"),
    ("calls", "Calls (7 d)"),
]
WHATIF_FIELDS = [
    ("requests", "Requests", "1000"),
    ("input_tokens", "Input tok/req", "500"),
    ("output_tokens", "Output tok/req", "300"),
    ("shared_context_tokens", "Shared ctx tok", "20000"),
    ("queries_per_context", "Queries/context", "100"),
    ("cache_hours", "Cache hours", "1"),
]


class CostsScreen(PaneScreen):
    TITLE = "Costs"
    AREA = "costs"
    BINDINGS = [
        Binding("g", "cycle_grouping", "Group by", id="costs.group"),
        Binding("w", "focus_whatif", "What-if", id="costs.whatif"),
    ]
    DEFAULT_CSS = """
    CostsScreen #spend-title, CostsScreen #whatif-title { padding: 0 1; text-style: bold; }
    CostsScreen #spend { height: 1fr; min-height: 4; max-height: 14; }
    CostsScreen #whatif { height: auto; border-top: solid $primary-muted; }
    /* Label over a one-line field, four to a row (eight on a wide terminal): every input
       keeps a usable width at 80 columns. */
    CostsScreen #whatif-form {
        height: auto; grid-size: 4; grid-columns: 22 1fr 1fr 1fr; grid-rows: 2;
        grid-gutter: 0 2; padding: 0 1;
    }
    CostsScreen.-wide #whatif-form { grid-size: 8; grid-columns: 22 1fr 1fr 1fr 1fr 1fr 1fr 1fr; }
    CostsScreen #whatif-form > Vertical { height: 2; }
    CostsScreen #whatif-form Label { color: $text-muted; }
    CostsScreen #whatif-form Input, CostsScreen #whatif-form Select { width: 1fr; }
    CostsScreen #whatif-form #compare { width: 1fr; margin: 1 0 0 0; }
    CostsScreen #whatif-error { height: auto; padding: 0 1; }
    CostsScreen #scenarios { height: auto; max-height: 9; }
    """

    def compose_body(self) -> ComposeResult:
        self._grouping: Grouping = "model"
        self._prices = PriceTable.load(self.app.workspace.settings.prices.file)
        models = sorted(self._prices.models)
        default = self.app.workspace.settings.gemini.default_model
        yield Static("", id="spend-title")
        yield EmptyState("no calls recorded yet — every call's cost lands here", id="empty")
        yield ResourceTable(COLUMNS, id="spend")
        with Vertical(id="whatif"):
            yield Static("What if — a workload on every lever  (w: edit, enter: compare)",
                         id="whatif-title")
            with Grid(id="whatif-form"):
                with Vertical(id="whatif-model-box"):
                    yield Label("Model")
                    yield Select(
                        [(m, m) for m in models],
                        value=default if default in models else models[0],
                        id="whatif-model",
                        allow_blank=False,
                        compact=True,
                    )
                for key, label, default in WHATIF_FIELDS:
                    with Vertical():
                        yield Label(label)
                        yield Input(default, id=f"whatif-{key}", restrict=r"[0-9.]*",
                                    compact=True)
                yield Button("Compare", id="compare", variant="primary", compact=True)
            yield Static("", id="whatif-error")
            yield DataTable(id="scenarios", cursor_type="row")

    def on_mount(self) -> None:
        scenarios = self.query_one("#scenarios", DataTable)
        scenarios.add_columns("Scenario", "Total", "Savings", "Note")
        self._show_title()
        self.action_compare()

    # -- spend --------------------------------------------------------------------------

    def refresh_data(self) -> None:
        grouping = self._grouping
        self.read_in_thread(
            lambda: services.spend.spend_today_and_week(self.workspace, by=grouping), self._show,
            name="costs",
        )

    def _show(self, result: tuple[list[SpendRow], list[SpendRow]]) -> None:
        today = {r.group: r for r in result[0]}
        week = result[1]
        self.query_one("#empty", EmptyState).show(not week)
        zero = SpendRow("", 0, 0, 0, 0, 0, 0.0, 0.0)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                w.group,
                (
                    w.group,
                    money(today.get(w.group, zero).cost),
                    saving(today.get(w.group, zero).savings),
                    money(w.cost),
                    saving(w.savings),
                    str(w.calls),
                ),
            )
            for w in week
        )
        table.display = table.row_count > 0
        total, saved = sum(w.cost for w in week), sum(w.savings for w in week)
        self.query_one("#spend-title", Static).update(
            f"Spend by {self._grouping} — 7 days {money(total)}, "
            f"{'saved ' if saved >= 0 else ''}{saving(saved)} vs standard with no cache  "
            "(g: group by)"
        )

    def _show_title(self) -> None:
        self.query_one("#spend-title", Static).update(f"Spend by {self._grouping}  (g: group by)")

    def action_cycle_grouping(self) -> None:
        self._grouping = GROUPINGS[(GROUPINGS.index(self._grouping) + 1) % len(GROUPINGS)]
        self.query_one(ResourceTable).clear_rows()
        self._show_title()
        self.refresh_data()

    # -- what-if -------------------------------------------------------------------------

    def action_focus_whatif(self) -> None:
        self.query_one("#whatif-requests", Input).focus()

    @on(Button.Pressed, "#compare")
    @on(Input.Submitted)
    def action_compare(self) -> None:
        error = self.query_one("#whatif-error", Static)
        try:
            values = {
                key: float(self.query_one(f"#whatif-{key}", Input).value or 0)
                for key, _, _ in WHATIF_FIELDS
            }
            workload = Workload(
                model=str(self.query_one("#whatif-model", Select).value),
                requests=int(values["requests"]),
                input_tokens=int(values["input_tokens"]),
                output_tokens=int(values["output_tokens"]),
                shared_context_tokens=int(values["shared_context_tokens"]),
                queries_per_context=max(1, int(values["queries_per_context"])),
                cache_hours=values["cache_hours"],
            )
            rows = compare(self._prices, workload)
        except (ValueError, LookupError) as problem:
            error.update(f"[red]{problem}[/red]")
            return
        error.update("")
        self._show_scenarios(rows)

    def _show_scenarios(self, rows: list[ScenarioCost]) -> None:
        table = self.query_one("#scenarios", DataTable)
        table.clear()
        for row in rows:
            mark = "★ " if row.cheapest else "  "
            total = money(row.total) if row.possible else "—"
            savings = f"{row.savings_vs_standard_pct:.1f} %" if row.possible else "—"
            table.add_row(f"{mark}{row.name}", total, savings, row.notes, key=row.name)
