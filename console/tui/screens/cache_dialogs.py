"""The caches pane's dialogs: the new-cache form, extend TTL, confirm delete, cache detail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from console.tui.formatting import duration, money, timestamp

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 100%; max-width: 96; height: auto; max-height: 100%; border: round $accent;
    background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; color: $accent; padding: 0 0 1 0; }}
{name} .hint {{ color: $text-muted; }}
{name} .error {{ color: $error; text-style: bold; height: auto; }}
{name} .buttons {{ height: auto; align-horizontal: right; padding: 1 0 0 0; }}
{name} .buttons Button {{ margin: 0 0 0 2; }}
"""


def _inline(text: str) -> Text:
    """User-given text shown as is (a display name may hold `[`, which markup would eat)."""
    return Text(text, no_wrap=True, overflow="ellipsis")


class CacheFormScreen(ModalScreen[Any]):
    """Files and/or a system instruction, a model and a TTL; dismisses with a CacheDraft.

    Files are inspected (type, size, a token estimate) in a thread as they are added; the
    estimate against the model's minimum is shown as the form is filled. The count that
    decides is made by the API after submitting, before anything is uploaded."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CacheFormScreen") + """
    CacheFormScreen #files { height: auto; max-height: 6; border: none; padding: 0; }
    CacheFormScreen #system { height: 5; }
    CacheFormScreen .row { height: auto; padding: 1 0 0 0; }
    CacheFormScreen .row Label { padding: 1 1 0 0; }
    CacheFormScreen #model { width: 32; }
    CacheFormScreen #ttl { width: 12; }
    CacheFormScreen #display-name { width: 1fr; }
    CacheFormScreen #estimate { padding: 1 0 0 0; height: auto; }
    CacheFormScreen #estimate.below { color: $warning; }
    """
    BINDINGS = [
        Binding("ctrl+s", "submit", "Create", id="cache-form.submit"),
        Binding("escape", "cancel", "Cancel", id="cache-form.cancel"),
        Binding("delete", "remove_file", "Remove file", id="cache-form.remove", show=False),
    ]

    def __init__(
        self,
        *,
        models: Sequence[str],
        minimums: dict[str, int],
        inspect: Callable[[list[Any]], list[Any]],
        draft: Any = None,
    ) -> None:
        super().__init__()
        self._models = list(models)
        self._minimums = minimums
        self._inspect = inspect
        self._draft = draft
        self._files: list[Any] = []

    def compose(self) -> ComposeResult:
        draft = self._draft
        model = draft.model if draft and draft.model in self._models else self._models[0]
        with Vertical():
            yield Static(
                Text.assemble(("New explicit cache", "bold"), ("   ctrl+s creates · escape cancels", "dim")),
                classes="title",
            )
            yield Label("Files — text, PDF or images (PNG, JPEG, WebP); a path, then enter")
            yield Input(placeholder="path/to/document.md", id="file-input")
            yield OptionList(id="files")
            yield Label("System instruction (optional)")
            yield TextArea(draft.system_instruction if draft else "", id="system")
            with Horizontal(classes="row"):
                yield Label("Model")
                yield Select(
                    [(m, m) for m in self._models], value=model, allow_blank=False, id="model"
                )
                yield Label("TTL")
                yield Input(_ttl_text(draft.ttl_s) if draft else "1h", id="ttl")
                yield Label("Name")
                yield Input(draft.display_name if draft else "", placeholder="display name",
                            id="display-name")
            yield Static("", id="estimate")
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#files", OptionList).display = False
        if self._draft and self._draft.files:
            self._add_files(list(self._draft.files))
        self._show_estimate()
        self.query_one("#file-input", Input).focus()

    # -- files ---------------------------------------------------------------------------

    @on(Input.Submitted, "#file-input")
    def _file_entered(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path:
            self._add_files([path])

    def _add_files(self, paths: list[Any]) -> None:
        def work() -> None:
            try:
                found = self._inspect(paths)
            except Exception as error:  # CacheInputError: the message says which and why
                self.app.call_from_thread(self._error, str(error))
                return
            self.app.call_from_thread(self._files_added, found)

        self.run_worker(work, thread=True, group="inspect", exit_on_error=False,
                        description="inspect files")

    def _files_added(self, found: list[Any]) -> None:
        known = {f.path.resolve() for f in self._files}
        self._files += [f for f in found if f.path.resolve() not in known]
        self.query_one("#file-input", Input).value = ""
        self._error("")
        self._show_files()

    def _show_files(self) -> None:
        listing = self.query_one("#files", OptionList)
        listing.clear_options()
        listing.add_options(
            Option(
                Text.assemble(
                    (f"{f.path.name:<32.32}", "bold"),
                    f"  {f.mime_type:<16.16}  {_bytes(f.size):>9}  ≈ {f.estimate:,} tokens",
                ),
                id=str(i),
            )
            for i, f in enumerate(self._files)
        )
        listing.display = bool(self._files)
        self._show_estimate()

    def action_remove_file(self) -> None:
        listing = self.query_one("#files", OptionList)
        if listing.has_focus and listing.highlighted is not None and self._files:
            del self._files[listing.highlighted]
            self._show_files()

    # -- the estimate --------------------------------------------------------------------

    @on(TextArea.Changed, "#system")
    @on(Select.Changed, "#model")
    def _inputs_changed(self) -> None:
        self._show_estimate()

    def _show_estimate(self) -> None:
        from console.services.caches import estimate_tokens

        tokens = estimate_tokens(self.query_one("#system", TextArea).text, self._files)
        model = str(self.query_one("#model", Select).value)
        minimum = self._minimums.get(model, 0)
        line = self.query_one("#estimate", Static)
        if not tokens:
            line.update(f"{model} caches need at least {minimum:,} tokens")
            line.set_class(False, "below")
            return
        verdict = "enough" if tokens >= minimum else "below the minimum"
        line.update(
            f"≈ {tokens:,} tokens · {model} needs ≥ {minimum:,} · {verdict} "
            "(an estimate: the API counts before any upload)"
        )
        line.set_class(tokens < minimum, "below")

    # -- submit --------------------------------------------------------------------------

    def _error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    @on(Button.Pressed, "#create")
    def action_submit(self) -> None:
        from console.services.caches import CacheDraft, CacheInputError, parse_ttl

        try:
            ttl = parse_ttl(self.query_one("#ttl", Input).value)
        except CacheInputError as error:
            self._error(str(error))
            return
        system = self.query_one("#system", TextArea).text
        if not self._files and not system.strip():
            self._error("nothing to cache: add a file or write a system instruction")
            return
        self.dismiss(
            CacheDraft(
                model=str(self.query_one("#model", Select).value),
                ttl_s=ttl,
                files=tuple(f.path for f in self._files),
                system_instruction=system,
                display_name=self.query_one("#display-name", Input).value.strip(),
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ExtendScreen(ModalScreen[float | None]):
    """How much longer to keep a cache; dismisses with seconds to add to its expiry."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ExtendScreen") + """
    ExtendScreen > Vertical { width: 72; }
    ExtendScreen #by { width: 16; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="extend.cancel")]

    def __init__(self, title: str, expires_at: float | None, now: float) -> None:
        super().__init__()
        self._title = title
        self._expires_at = expires_at
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble("Extend ", (self._title, "bold")), classes="title")
            yield Label("Extend by (e.g. 30m, 1h, 1d)")
            yield Input("1h", id="by")
            yield Static("", id="preview", classes="hint")
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Extend", variant="primary", id="extend")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._preview()
        self.query_one("#by", Input).focus()

    def _seconds(self) -> float:
        from console.services.caches import parse_ttl

        return parse_ttl(self.query_one("#by", Input).value)

    @on(Input.Changed, "#by")
    def _preview(self) -> None:
        from console.services.caches import CacheInputError

        error = self.query_one("#form-error", Static)
        try:
            seconds = self._seconds()
        except CacheInputError as problem:
            error.update(str(problem))
            return
        error.update("")
        base = self._expires_at if self._expires_at is not None else self._now
        new = base + seconds
        self.query_one("#preview", Static).update(
            f"expires {timestamp(new)} UTC, in {duration(new - self._now)} "
            f"(now in {duration(base - self._now)})"
        )

    @on(Input.Submitted, "#by")
    @on(Button.Pressed, "#extend")
    def _submit(self) -> None:
        from console.services.caches import CacheInputError

        try:
            self.dismiss(self._seconds())
        except CacheInputError as problem:
            self.query_one("#form-error", Static).update(str(problem))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class CacheDetailScreen(ModalScreen[None]):
    """Everything known about one cache: the remote fields, storage, use and savings."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CacheDetailScreen")
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="cache-detail.close")]

    def __init__(self, view: Any, now: float) -> None:
        super().__init__()
        self._view = view
        self._now = now

    def compose(self) -> ComposeResult:
        v, now = self._view, self._now
        c = v.cache
        usage = v.usage
        storage = v.storage_so_far(now)
        left = v.storage_until_expiry(now)
        expires_in = v.expires_in(now)
        rows: list[tuple[str, Text | str]] = [
            ("name", c.name),
            ("display name", _inline(c.display_name or "—")),
            ("model", c.model),
            ("tokens", f"{c.total_tokens:,}"),
            ("created", f"{timestamp(c.created_at)} UTC"),
            ("updated", f"{timestamp(c.updated_at)} UTC"),
            (
                "expires",
                f"{timestamp(c.expires_at)} UTC"
                + (f" (in {duration(expires_in)})" if expires_in and expires_in > 0 else ""),
            ),
        ]
        if v.per_hour is None:
            rows.append(("storage", f"no price for {c.model} in the price table"))
        else:
            rows.append(
                (
                    "storage",
                    f"{money(storage or 0)} so far · {money(v.per_hour)}/h · "
                    f"{money(left or 0)} more until it expires",
                )
            )
        if usage:
            rows += [
                (
                    "used by",
                    f"{usage.calls:,} calls · {usage.cached_tokens:,} tokens read from the cache",
                ),
                ("last used", f"{timestamp(usage.last_used_at)} UTC"),
                ("saved", f"{money(v.saved)} on input (cached tokens vs. the full input rate)"),
                ("net", f"{money(v.saved - (storage or 0))} (saved − storage so far)"),
            ]
        else:
            rows.append(("used by", "no calls yet (the ledger has none naming this cache)"))
        text = Text()
        for label, value in rows:
            text.append(f"{label:<14}", style="bold")
            text.append(value if isinstance(value, Text) else Text(value))
            text.append("\n")
        text.rstrip()
        with Vertical():
            yield Static(_inline(c.display_name or c.name), classes="title")
            yield Static(text)
            yield Static("escape closes", classes="hint")


def _ttl_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:.0f}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"


def _bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024**2:.1f} MB"
