"""The export dialog of the logs pane: a format and a file for the interactions in view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

FORMATS = [
    ("gemini — tuning JSONL {contents}", "gemini"),
    ("openai — chat JSONL {messages}", "openai"),
    ("csv — flat columns", "csv"),
]
EXTENSIONS = {"gemini": ".jsonl", "openai": ".jsonl", "csv": ".csv"}


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: str


class ExportDialog(ModalScreen[ExportRequest | None]):
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 1 2;
    }
    ExportDialog Label { color: $text-muted; }
    ExportDialog #export-what { padding-bottom: 1; }
    ExportDialog #export-buttons { height: auto; align-horizontal: right; padding-top: 1; }
    ExportDialog #export-buttons Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="logs.export.cancel")]

    def __init__(self, summary: str, stem: str) -> None:
        super().__init__()
        self._summary = summary
        self._stem = stem

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Export {self._summary}", id="export-what")
            yield Label("Format")
            yield Select(FORMATS, value="gemini", allow_blank=False, id="export-format")
            yield Label("File (written complete, then renamed into place)")
            yield Input(self._stem + EXTENSIONS["gemini"], id="export-path")
            with Horizontal(id="export-buttons"):
                yield Button("Cancel", id="export-cancel")
                yield Button("Export", id="export-start", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        # Follow the format with the file's extension, unless a name was typed by hand.
        path = self.query_one("#export-path", Input)
        current = Path(path.value)
        if current.suffix in (".jsonl", ".csv"):
            path.value = str(current.with_suffix(EXTENSIONS[str(event.value)]))

    @on(Button.Pressed, "#export-start")
    @on(Input.Submitted, "#export-path")
    def _start(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.query_one("#export-path", Input).focus()
            return
        fmt = str(self.query_one("#export-format", Select).value)
        self.dismiss(ExportRequest(fmt, path))

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
