"""The flash line: one transient message at a time, cleared after a few seconds (k9s)."""

from __future__ import annotations

from textual.timer import Timer
from textual.widgets import Static


class FlashLine(Static):
    DEFAULT_CSS = """
    FlashLine { height: 1; padding: 0 1; color: $text-muted; }
    FlashLine.error { color: $error; text-style: bold; }
    FlashLine.warning { color: $warning; }
    """

    def __init__(self, *, hold_s: float = 4.0) -> None:
        super().__init__("", id="flash")
        self._hold_s = hold_s
        self._timer: Timer | None = None

    def show(self, text: str, severity: str = "information") -> None:
        self.update(text)
        self.set_class(severity == "error", "error")
        self.set_class(severity == "warning", "warning")
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self._hold_s, self.clear)

    def clear(self) -> None:
        self.update("")
        self.remove_class("error", "warning")
