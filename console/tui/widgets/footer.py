"""The footer: help and quit first, so a narrow terminal cuts a pane's keys, never `?` or `q`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Bindings (by id) that stay visible at any width: the ways to learn the rest and to leave.
PINNED = ("app.help", "app.quit")
COMPACT_BELOW = 120  # columns: narrower terminals get the footer with less whitespace


class KeysFooter(Footer):
    def compose(self) -> ComposeResult:
        pinned_keys = {
            key: PINNED.index(active.binding.id)
            for key, active in self.screen.active_bindings.items()
            if active.binding.id in PINNED
        }
        widgets = list(super().compose())
        first = sorted(
            (w for w in widgets if isinstance(w, FooterKey) and w.key in pinned_keys),
            key=lambda w: pinned_keys[w.key],
        )
        yield from first
        yield from (w for w in widgets if w not in first)

    def on_mount(self) -> None:
        self.compact = self.app.size.width < COMPACT_BELOW

    def on_resize(self, event: Resize) -> None:
        self.compact = self.app.size.width < COMPACT_BELOW
