"""The limits pane: RPM / TPM / RPD used against the limit per model and tier, quota and
overload errors in the last hour, the limiter's live state, and requests per minute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Sparkline, Static

from console.tui import services
from console.tui.formatting import duration, tokens
from console.tui.screens.base import PaneScreen
from console.tui.screens.empty import EmptyState
from console.tui.widgets.gauge import gauge
from console.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from console.services.usage import LimitUsage


# The errors come right after RPM: at 80 columns they stay on screen with it.
COLUMNS = [
    ("model", "Model"),
    ("tier", "Tier"),
    ("rpm", "RPM (last min)"),
    ("q429", "429s/h"),
    ("q503", "503s/h"),
    ("tpm", "TPM (last min)"),
    ("rpd", "RPD (24 h)"),
    ("state", "Limiter"),
]
REFRESH_S = 2.0


def limiter_state(u: LimitUsage) -> str:
    if u.breaker is None:
        return "—"
    parts = [] if u.breaker == "closed" else [f"breaker {u.breaker}"]
    if u.cool_down_s > 0:
        parts.append(f"cooling {duration(u.cool_down_s)}")
    if u.learnt_rpm is not None:
        parts.append(f"learnt {u.learnt_rpm:.0f} rpm")
    return ", ".join(parts) or "pacing"


class LimitsScreen(PaneScreen):
    TITLE = "Rate limits"
    AREA = "limits"
    DEFAULT_CSS = """
    LimitsScreen #detail { height: 6; border-top: solid $primary-muted; padding: 0 1; }
    LimitsScreen Sparkline { height: 3; }
    LimitsScreen #spend-gauge { padding: 0 1; height: 1; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static("", id="spend-gauge")
        yield EmptyState(
            "no calls in the last day — gauges appear per model and tier as calls are made",
            id="empty",
        )
        yield ResourceTable(COLUMNS, id="limits")
        with Vertical(id="detail"):
            yield Static("", id="detail-title")
            yield Sparkline([], id="per-minute")
        self._usage: dict[str, LimitUsage] = {}

    def on_mount(self) -> None:
        # k9s: a steady cadence, no faster than every 2 s, only while the pane is on screen.
        self.set_interval(REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self.app.screen is self:
            self.refresh_data()

    def refresh_data(self) -> None:
        ws = self.workspace
        self.read_in_thread(lambda: services.usage.limit_usage(ws), self._show, name="limits")
        self.read_in_thread(lambda: services.budget.spend_gauge(ws), self._show_spend, name="spend")

    def _show_spend(self, spend: tuple[float, float | None]) -> None:
        spent, budget = spend
        label = f"${spent:,.4f} today of ${budget:,.2f} budget" if budget else f"${spent:,.4f} today (no budget)"
        self.query_one("#spend-gauge", Static).update(Text.assemble("Spend ", gauge(spent, budget, label, 20)))

    def _show(self, usage: list[LimitUsage]) -> None:
        self._usage = {f"{u.model}/{u.tier}": u for u in usage}
        self.query_one("#empty", EmptyState).show(not usage)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                key,
                (
                    u.model,
                    u.tier,
                    gauge(u.rpm_used, u.rpm_limit, f"{u.rpm_used}/{u.rpm_limit}"),
                    str(u.quota_errors_hour),
                    str(u.unavailable_hour),
                    gauge(u.tpm_used, u.tpm_limit, f"{tokens(u.tpm_used)}/{tokens(u.tpm_limit)}"),
                    gauge(u.rpd_used, u.rpd_limit,
                          f"{u.rpd_used}/{u.rpd_limit if u.rpd_limit else '∞'}"),
                    limiter_state(u),
                ),
            )
            for key, u in self._usage.items()
        )
        table.display = table.row_count > 0
        self.query_one("#detail").display = table.row_count > 0
        self._show_detail(table.selected_key)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.row_key.value if event.row_key else None)

    def _show_detail(self, key: str | None) -> None:
        usage = self._usage.get(key or "")
        if usage is None:
            return
        peak = max(usage.per_minute) if usage.per_minute else 0
        self.query_one("#detail-title", Static).update(
            f"[b]{usage.model} · {usage.tier}[/b] — requests per minute, last hour "
            f"(peak {peak}, limit {usage.rpm_limit})"
        )
        self.query_one("#per-minute", Sparkline).data = list(usage.per_minute)
