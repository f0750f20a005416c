"""The quality pane: the judge's daily trend per labels and model (a chart), the hallucination
rate against its threshold, and the worst-scored answers."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from console.tui import services
from console.tui.screens.base import PaneScreen
from console.tui.screens.empty import EmptyState
from console.tui.widgets.gauge import bar
from console.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from console.services.quality import QualityReport


DAYS = 14
LEVELS = " ▁▂▃▄▅▆▇█"
NAME_WIDTH = 34
COLUMNS = [
    ("id", "#"),
    ("day", "Day"),
    ("model", "Model"),
    ("labels", "Labels"),
    ("acc", "Acc"),
    ("tone", "Tone"),
    ("halluc", "Halluc."),
    ("reason", "Judge's reason"),
]


def _read(ws) -> QualityReport:
    now = ws.clock()
    return services.quality.quality_report(ws, since=now - DAYS * 86_400, worst=20)


class QualityTrend(Widget):
    """One line per (labels, model): a bar per day whose height is the mean accuracy (1-5)
    and whose colour is that day's hallucination rate against the threshold."""

    DEFAULT_CSS = "QualityTrend { height: auto; padding: 0 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._report: QualityReport | None = None
        self._today: float = 0.0

    def show(self, report: QualityReport, today: float) -> None:
        self._report, self._today = report, today
        self.refresh(layout=True)

    def render(self) -> Text:
        report = self._report
        if report is None or not report.daily:
            return Text("")
        last = datetime.fromtimestamp(self._today, UTC).date()
        days = [(last - timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)]
        series: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        for row in report.daily:
            name = f"{row.labels or '(no labels)'} · {row.model}"
            series[name][row.day] = (row.accuracy, row.hallucination_rate)
        text = Text()
        text.append(" " * NAME_WIDTH + " ")
        text.append(" ".join(d[8:10] for d in days), style="dim")
        text.append("   accuracy 1-5 (bar) · colour: hallucination rate\n", style="dim")
        for name in sorted(series):
            text.append(name[:NAME_WIDTH].ljust(NAME_WIDTH) + " ")
            for day in days:
                found = series[name].get(day)
                if found is None:
                    text.append("·  ", style="dim")
                    continue
                accuracy, rate = found
                level = LEVELS[max(1, min(8, round((accuracy - 1) / 4 * 8)))]
                style = ("red bold" if rate > report.threshold
                         else "yellow" if rate > report.threshold / 2 else "green")
                text.append(f"{level}{level}", style=style)
                text.append(" ")
            recent = [v for d, v in series[name].items() if d in days]
            mean = sum(a for a, _ in recent) / len(recent) if recent else 0
            text.append(f"  mean {mean:.2f}\n")
        return text


class QualityScreen(PaneScreen):
    TITLE = "Quality"
    AREA = "quality"
    DEFAULT_CSS = """
    QualityScreen #rate { padding: 0 1; height: auto; }
    QualityScreen #trend-title, QualityScreen #worst-title { padding: 0 1; text-style: bold; }
    QualityScreen #worst { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "nothing judged yet — with logging on, every Nth answer (quality.sample_every) is "
            "scored by the judge model", id="empty")
        yield Static("", id="rate")
        yield Static(f"Daily trend, last {DAYS} days, per labels and model", id="trend-title")
        yield QualityTrend(id="trend")
        yield Static("Worst-scored answers", id="worst-title")
        yield ResourceTable(COLUMNS, id="worst")

    def refresh_data(self) -> None:
        self.read_in_thread(lambda: _read(self.workspace), self._show, name="quality")

    def _show(self, report: QualityReport) -> None:
        empty = report.judged == 0
        self.query_one("#empty", EmptyState).show(empty)
        for selector in ("#rate", "#trend-title", "#trend", "#worst-title", "#worst"):
            self.query_one(selector).display = not empty
        if empty:
            return
        rate, threshold = report.rate, report.threshold
        fraction = rate / (2 * threshold) if threshold else 1.0
        style = "red bold" if report.over else "green"
        verdict = "OVER" if report.over else "within"
        self.query_one("#rate", Static).update(Text.assemble(
            "Hallucination rate ", (f"{rate:.1%}", style),
            f" ({report.hallucinated} of {report.judged:,} judged, {DAYS} d)  ",
            (bar(fraction, 20), style), (" |", "bold"), f" threshold {threshold:.1%} — ",
            (verdict, style), f"   judge {report.judge_model} on {report.judge_tier}"))
        self.query_one(QualityTrend).show(report, self.workspace.clock())
        day = lambda at: datetime.fromtimestamp(at, UTC).strftime("%m-%d")  # noqa: E731
        self.query_one(ResourceTable).apply(
            (str(score.id), (
                str(score.interaction_id), day(score.answered_at), score.model,
                score.labels or "—", str(score.accuracy), str(score.tone),
                Text("yes", style="red bold") if score.hallucination else Text("no"),
                (score.reason or "")[:60],
            ))
            for score, _answer in report.worst
        )
