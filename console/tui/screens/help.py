"""The `?` help screen: every binding of the app and of the pane it was opened from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; height: auto; max-height: 80%; border: round $accent;
        background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, bindings: list[Binding], pane: str) -> None:
        super().__init__()
        self._listed = bindings
        self._pane = pane

    def compose(self) -> ComposeResult:
        lines = [f"[b]gemops — keys ({self._pane})[/b]", ""]
        for binding in self._listed:
            if binding.description:
                key = binding.key_display or binding.key
                lines.append(f"  [b]{key:<12}[/b] {binding.description}")
        lines += ["", "ctrl+p opens the command palette: jump to any pane or action."]
        with VerticalScroll():
            yield Static("\n".join(lines))
