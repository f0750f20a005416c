"""The one confirmation every destructive action asks (delete a cache, cancel a batch, …),
and the spend budget's "go over?" question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """y (or the action's button) confirms; n, escape or Keep keeps. Keep has the focus, so
    a stray enter never destroys anything."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; height: auto; border: round $error; background: $surface; padding: 0 1;
    }
    ConfirmScreen .title { text-style: bold; padding: 0 0 1 0; }
    ConfirmScreen .hint { color: $text-muted; }
    ConfirmScreen .buttons { height: auto; align-horizontal: right; padding: 1 0 0 0; }
    ConfirmScreen .buttons Button { margin: 0 0 0 2; }
    """
    BINDINGS = [
        Binding("y", "confirm", "Yes", id="confirm.yes"),
        Binding("n,escape", "cancel", "No", id="confirm.no"),
    ]

    def __init__(
        self, question: Text | str, action: str, hint: str = "This cannot be undone."
    ) -> None:
        super().__init__()
        # User-given names may hold `[`, which markup would eat: plain text unless styled.
        self._question = Text(question) if isinstance(question, str) else question
        self._action = action
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, classes="title")
            yield Static(self._hint, classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._action}  y", variant="error", id="confirm")
                yield Button("Keep  n", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_cancel(self) -> None:
        self.dismiss(False)


def ask_over_budget(app: Any, refusal: Any, go: Callable[[float], None]) -> None:
    """The spend budget refused an action (`refusal` is a budget.OverBudget): say the
    estimate, today's spend and the budget, and on yes call `go(allowance)`, which raises
    today's budget by that much (budget.allow_over) and starts the action again. No (or
    escape) sends nothing."""

    def answer(yes: bool | None) -> None:
        if yes:
            go(refusal.needed)

    app.push_screen(ConfirmScreen(refusal.question, "Go over", refusal.explanation), answer)
