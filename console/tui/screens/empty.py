"""A pane's empty state: a sentence saying what is missing and which key fills it."""

from __future__ import annotations

from textual.widgets import Static


class EmptyState(Static):
    DEFAULT_CSS = """
    EmptyState { padding: 1 2; color: $text-muted; display: none; }
    EmptyState.shown { display: block; }
    """

    def show(self, shown: bool, text: str | None = None) -> None:
        if text is not None:
            self.update(text)
        self.set_class(shown, "shown")
