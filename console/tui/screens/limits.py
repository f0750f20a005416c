"""The limits pane: RPM / TPM / RPD used against the limit per model and tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult

from console.tui.formatting import tokens
from console.tui.screens.base import PaneScreen, service
from console.tui.screens.empty import EmptyState
from console.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from console.services.usage import LimitUsage

limit_usage = service("console.services.usage.limit_usage")

COLUMNS = [
    ("model", "Model"),
    ("tier", "Tier"),
    ("rpm", "RPM"),
    ("tpm", "TPM"),
    ("rpd", "RPD"),
    ("q429", "429s/h"),
    ("q503", "503s/h"),
]


class LimitsScreen(PaneScreen):
    TITLE = "Rate limits"
    AREA = "limits"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "no calls in the last day — gauges appear per model and tier as calls are made",
            id="empty",
        )
        yield ResourceTable(COLUMNS, id="limits")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: limit_usage(self.workspace), self._show, name="limits")

    def _show(self, usage: list[LimitUsage]) -> None:
        self.query_one("#empty", EmptyState).show(not usage)
        table = self.query_one(ResourceTable)
        table.apply(
            (
                f"{u.model}/{u.tier}",
                (
                    u.model,
                    u.tier,
                    f"{u.rpm_used}/{u.rpm_limit}",
                    f"{tokens(u.tpm_used)}/{tokens(u.tpm_limit)}",
                    f"{u.rpd_used}/{u.rpd_limit if u.rpd_limit else '∞'}",
                    str(u.quota_errors_hour),
                    str(u.unavailable_hour),
                ),
            )
            for u in usage
        )
        table.display = table.row_count > 0
