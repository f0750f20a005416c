"""The frame every pane shares: header, body, flash line, footer; and a worker helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.worker import Worker

from console.tui.messages import Flash, StoreChanged
from console.tui.widgets.flash import FlashLine
from console.tui.widgets.footer import KeysFooter
from console.tui.widgets.header import AppHeader

if TYPE_CHECKING:
    from textual import getters

    from console.tui.app import GemopsApp


def _pending(worker: Worker) -> bool:
    # A read replaced by a newer one (exclusive) is cancelled, and never applied.
    return not worker.is_finished and not worker.is_cancelled


class PaneScreen(Screen):
    """A pane: subclasses give `TITLE`, `compose_body()` and `refresh_data()`."""

    if TYPE_CHECKING:  # `self.app` as the gemops app for the type checker
        app = getters.app(GemopsApp)

    TITLE = ""
    AREA = "all"
    # `-wide` on the screen lets a pane lay its forms out in one row when there is room.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    # Reads asked for but not yet on screen: tests and the palette wait on these, not on time.
    _refresh_due = False
    _reads: list[Worker] | None = None
    _loaded_callbacks: list[Callable[[], None]] | None = None

    BINDINGS = [
        Binding("escape", "leave_field", "Leave the field", id="pane.leave-field", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield AppHeader(self.TITLE)
        with Vertical(id="body"):
            yield from self.compose_body()
        yield FlashLine()
        yield KeysFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_leave_field(self) -> None:
        """Escape in a form field hands the keys back to the pane's table, so a pane key
        is a key again and never typed into the field."""
        from textual.widgets import DataTable  # not on the first frame's path

        focused = self.focused
        if focused is None or isinstance(focused, DataTable):
            return
        self.focus_table()

    def focus_table(self) -> None:
        from textual.widgets import DataTable

        tables = [t for t in self.query(DataTable) if t.display and t.visible]
        if tables:
            tables[0].focus()
        else:
            self.set_focus(None)

    @property
    def workspace(self):
        return self.app.workspace

    def on_screen_resume(self) -> None:
        # Reads start after the frame is painted: the store's first open imports SQLAlchemy.
        self._refresh_due = True
        self.call_after_refresh(self._refresh_after_resume)

    def _refresh_after_resume(self) -> None:
        self._refresh_due = False
        self.refresh_data()
        self._maybe_loaded()

    @property
    def settled(self) -> bool:
        """True once every read this pane asked for has reached its widgets."""
        return not self._refresh_due and not any(_pending(w) for w in self._reads or ())

    def when_loaded(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the pane shows what it read (now, if it already does): the
        palette opens a batch or cache by name on a pane that may just be starting."""
        if self.settled:
            callback()
            return
        if self._loaded_callbacks is None:
            self._loaded_callbacks = []
        self._loaded_callbacks.append(callback)

    def _maybe_loaded(self) -> None:
        if self.settled and self._loaded_callbacks:
            callbacks, self._loaded_callbacks = self._loaded_callbacks, None
            for callback in callbacks:
                callback()

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

        worker = self.run_worker(
            work, thread=True, group=name, exclusive=True, exit_on_error=False, description=name
        )
        self._reads = [w for w in self._reads or () if _pending(w)] + [worker]

    @on(Worker.StateChanged)
    def _read_finished(self, event: Worker.StateChanged) -> None:
        if event.worker.is_finished and event.worker in (self._reads or ()):
            self._maybe_loaded()
