"""One logged interaction in full (sanitized): header, labels, system instruction, turns, reply."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class InteractionDetail(ModalScreen[None]):
    DEFAULT_CSS = """
    InteractionDetail { align: center middle; }
    InteractionDetail > VerticalScroll {
        width: 90%; height: auto; max-height: 90%; border: round $accent; background: $surface;
        padding: 0 1;
    }
    InteractionDetail #detail-text { width: 1fr; }
    InteractionDetail #detail-keys { color: $text-muted; padding-top: 1; }
    """
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="logs.detail.close")]

    def __init__(self, text: str, interaction_id: int) -> None:
        super().__init__()
        self._text = text
        self.interaction_id = interaction_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            # Logged text is shown as it is: square brackets are tokens, not markup.
            yield Static(self._text, id="detail-text", markup=False)
            yield Static("escape: close   ↑/↓ pgup/pgdn: scroll", id="detail-keys")

    def on_mount(self) -> None:
        self.query_one("#detail", VerticalScroll).focus()
