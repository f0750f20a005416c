"""The batch pane's dialogs: one job in detail, a file to submit (confirmations use
screens/confirm.py)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

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


class SubmitFileScreen(ModalScreen[str | None]):
    """A JSONL file to submit as a batch job; dismisses with its path (None: cancelled)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SubmitFileScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="batch-submit.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Submit a JSONL file as a batch job", classes="title")
            yield Static("One request a line, each with a key: {\"key\": …, \"request\": …}. "
                         "It is validated first; the same content twice is a duplicate.",
                         classes="hint")
            yield Input(placeholder="path/to/requests.jsonl, then enter", id="submit-path")
            yield Static("enter submits · escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#submit-path", Input).focus()

    @on(Input.Submitted, "#submit-path")
    def _submit(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
