"""The batch pane's dialog: one job in detail (confirmations use screens/confirm.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 100%; max-width: 80; height: auto; max-height: 100%; border: round $accent;
    background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; color: $accent; padding: 0 0 1 0; }}
{name} .hint {{ color: $text-muted; }}
{name} .buttons {{ height: auto; align-horizontal: right; padding: 1 0 0 0; }}
{name} .buttons Button {{ margin: 0 0 0 2; }}
"""


class JobDetail(ModalScreen[None]):
    """Everything known about one job (and the drop file it came from)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="JobDetail")
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="batch-detail.close")]

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        body = Text()
        for label, value in self._rows:
            body.append(f"{label:>16}  ", style="bold")
            body.append(f"{value}\n")
        with Vertical():
            yield Static(Text(self._title), classes="title")
            yield Static(body)
            yield Static("escape closes", classes="hint")
