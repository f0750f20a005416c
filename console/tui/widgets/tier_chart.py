"""A latency chart per tier, drawn with text: every sample as a dot on its tier's line, the
interquartile box over them, the median as a bar, all tiers on one axis from zero."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

LABEL_WIDTH = 10
TAIL_WIDTH = 10
TIER_STYLES = {"flex": "yellow", "standard": "cyan", "priority": "magenta"}


@dataclass(frozen=True)
class Series:
    """One tier's successful latencies (ms) and how many of its calls failed."""

    tier: str
    latencies_ms: Sequence[float]
    failed: int = 0


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value`: round numbers on the axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Q1, median, Q3 interpolated between ranks (the summary table's p50 method)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def axis_label(ms: float, unit: str) -> str:
    if unit == "s":
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


class LatencyChart(Widget):
    DEFAULT_CSS = """
    LatencyChart { height: auto; padding: 0 0 1 0; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._series: list[Series] = []
        self._unit = "ms"

    def show(self, series: Sequence[Series], unit: str) -> None:
        self._series = list(series)
        self._unit = unit
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._series) + 1 if self._series else 1

    def render(self) -> Text:
        if not self._series:
            return Text("no samples yet", style="dim")
        width = max(10, self.size.width - LABEL_WIDTH - TAIL_WIDTH)
        peak = max((v for s in self._series for v in s.latencies_ms), default=0.0)
        top = nice_ceiling(peak)
        text = Text(no_wrap=True, overflow="crop")
        for series in self._series:
            text.append(f"{series.tier:<{LABEL_WIDTH}}", style="bold")
            text.append_text(self._plot(series, width, top))
            tail = f" {len(series.latencies_ms)} ok"
            if series.failed:
                tail += f" {series.failed}✗"
            text.append(tail.ljust(TAIL_WIDTH), style="red" if series.failed else "dim")
            text.append("\n")
        text.append(" " * LABEL_WIDTH)
        text.append(self._axis(width, top), style="dim")
        return text

    def _plot(self, series: Series, width: int, top: float) -> Text:
        cells = [" "] * width
        styles = [""] * width
        values = list(series.latencies_ms)
        if not values:
            return Text("no successful calls".ljust(width), style="dim")

        def at(ms: float) -> int:
            return min(width - 1, max(0, round(ms / top * (width - 1))))

        colour = TIER_STYLES.get(series.tier, "white")
        for x in range(at(min(values)), at(max(values)) + 1):
            cells[x], styles[x] = "─", "dim"
        q1, median, q3 = quartiles(values)
        for x in range(at(q1), at(q3) + 1):
            cells[x], styles[x] = "█", colour
        for value in values:
            x = at(value)
            if cells[x] != "█":
                cells[x], styles[x] = "•", colour
        cells[at(median)], styles[at(median)] = "┃", f"bold white on {colour}"
        text = Text()
        for char, style in zip(cells, styles, strict=True):
            text.append(char, style=style or None)
        return text

    def _axis(self, width: int, top: float) -> str:
        line = [" "] * width
        for fraction in (0.0, 0.5, 1.0):
            label = axis_label(top * fraction, self._unit)
            x = round(fraction * (width - 1))
            start = min(max(0, x - len(label) // 2), width - len(label))
            if fraction == 0.0:
                start = 0
            line[start:start + len(label)] = list(label)
        return "".join(line)
