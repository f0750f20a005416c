"""The batch pane's dialogs: confirm a cancel or delete, and one job in detail."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 80; height: auto; max-height: 90%; border: round $accent;
    background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; color: $accent; padding: 0 0 1 0; }}
{name} .hint {{ color: $text-muted; }}
{name} .buttons {{ height: auto; align-horizontal: right; padding: 1 0 0 0; }}
{name} .buttons Button {{ margin: 0 0 0 2; }}
"""


class ConfirmJobAction(ModalScreen[bool]):
    """Cancel or delete asks first: y on the action, n / escape keeps the job as it is."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmJobAction")
    BINDINGS = [
        Binding("y", "confirm", "Yes", id="batch-confirm.yes"),
        Binding("n,escape", "keep", "No", id="batch-confirm.no"),
    ]

    def __init__(self, question: str, hint: str, action: str) -> None:
        super().__init__()
        self._question = question
        self._hint = hint
        self._action = action

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._question), classes="title")
            yield Static(self._hint, classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(self._action, variant="error", id="confirm")
                yield Button("Keep", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)


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
