"""The frame every pane shares: header, body, flash line, footer; and a worker helper."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer

from console.tui.messages import Flash, StoreChanged
from console.tui.widgets.flash import FlashLine
from console.tui.widgets.header import AppHeader


def service(path: str) -> Callable[..., Any]:
    """A service function imported when first called, which is in a worker thread: services
    pull in SQLAlchemy, and importing it on the UI thread would hold the first frame back."""

    def call(*args: Any, **kwargs: Any) -> Any:
        module, name = path.rsplit(".", 1)
        return getattr(import_module(module), name)(*args, **kwargs)

    return call


class PaneScreen(Screen):
    """A pane: subclasses give `TITLE`, `compose_body()` and `refresh_data()`."""

    TITLE = ""
    AREA = "all"

    def compose(self) -> ComposeResult:
        yield AppHeader(self.TITLE)
        with Vertical(id="body"):
            yield from self.compose_body()
        yield FlashLine()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def workspace(self):
        return self.app.workspace

    def on_screen_resume(self) -> None:
        # Reads start after the frame is painted: the store's first open imports SQLAlchemy.
        self.call_after_refresh(self.refresh_data)

    def refresh_data(self) -> None:
        """Re-read what the pane shows from the store (off the UI thread)."""

    def on_store_changed(self, message: StoreChanged) -> None:
        if message.area in ("all", self.AREA):
            self.refresh_data()

    def on_flash(self, message: Flash) -> None:
        self.query_one(FlashLine).show(message.text, message.severity)

    def flash(self, text: str, severity: str = "information") -> None:
        self.query_one(FlashLine).show(text, severity)

    def read_in_thread(
        self, read: Callable[[], Any], apply: Callable[[Any], None], *, name: str
    ) -> None:
        """Run a store read in a thread worker; apply its result on the UI thread."""

        def work() -> None:
            try:
                result = read()
            except Exception as error:  # a failed read is shown, never a crash
                self.app.call_from_thread(self.flash, f"{name}: {error}", "error")
                return
            self.app.call_from_thread(apply, result)

        self.run_worker(
            work, thread=True, group=name, exclusive=True, exit_on_error=False, description=name
        )
