"""Command palette providers: jump to any pane; run any action (sample workload, new cache,
submit a file, tier test, export, sync); open a batch job or a cache by name from SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from console.tui.app import GemopsApp

Command = tuple[str, Callable[[], Any], str]


def _matching(provider: Provider, query: str, commands: Iterator[Command]) -> Iterator[Hit]:
    matcher = provider.matcher(query)
    for text, run, help_text in commands:
        score = matcher.match(text)
        if score > 0:
            yield Hit(score, matcher.highlight(text), run, help=help_text or None)


async def on_pane(app: Any, mode: str, then: Callable[[Any], None] | None = None) -> None:
    """Switch to a pane and, once it shows what it read, act on it."""
    await app.switch_mode(mode)
    screen = app.screen
    if then is not None:
        screen.when_loaded(lambda: then(screen))


class _Listed(Provider):
    """A provider over a list of commands: all of them on discovery, the matches on search."""

    if TYPE_CHECKING:  # `self.app` as the gemops app for the type checker

        @property
        def app(self) -> GemopsApp: ...

    def _commands(self) -> Iterator[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for text, run, help_text in self._commands():
            yield DiscoveryHit(text, run, help=help_text or None)

    async def search(self, query: str) -> Hits:
        for hit in _matching(self, query, self._commands()):
            yield hit


class PaneCommands(_Listed):
    def _commands(self) -> Iterator[Command]:
        app = self.app
        for number, (mode, title) in enumerate(app.PANES, start=1):
            yield f"Go to {title} ({number})", partial(app.switch_mode, mode), ""
        yield "Sync now", app.action_sync_now, "ctrl+r: mirror caches, batches and files"
        yield "Help: show keys", app.action_help, "?"


class ActionCommands(_Listed):
    """What each pane can do, from anywhere."""

    def _commands(self) -> Iterator[Command]:
        app = self.app
        yield ("Run the sample workload (emulator)", app.load_samples,
               "a cache, calls on every tier and a batch, in about 20 s")
        yield ("New cache…", partial(on_pane, app, "caches", lambda s: s.action_create()),
               "caches pane: n")
        yield ("Submit a JSONL file as a batch job…",
               partial(on_pane, app, "batches", lambda s: s.action_submit_file()),
               "batch jobs pane: s")
        yield ("Watch the drop folder (start/stop)",
               partial(on_pane, app, "batches", lambda s: s.action_watch()),
               "batch jobs pane: w")
        yield ("Run a tier test…", partial(on_pane, app, "tiers", lambda s: s.action_new_run()),
               "tier tester pane: n")
        yield ("Export logged interactions…",
               partial(on_pane, app, "logs", lambda s: s.action_export()),
               "logs pane: e (the current filter)")
        yield ("Toggle interaction logging",
               partial(on_pane, app, "logs", lambda s: s.action_toggle_logging()),
               "logs pane: l")


class ResourceCommands(_Listed):
    """Open a batch job or a cache by its name (read from SQLite when the palette opens)."""

    async def startup(self) -> None:
        try:
            from console.services.overview import palette_targets

            self._found = await asyncio.to_thread(palette_targets, self.app.workspace)
        except Exception:  # an unreadable store: the panes say why
            self._found = []

    def _open(self, kind: str, name: str) -> None:
        mode = "batches" if kind == "batch" else "caches"

        def show(screen: Any) -> None:
            if screen.select(name):
                screen.action_detail()
            else:
                screen.flash(f"{name} is not listed any more", "warning")

        self.app.call_later(on_pane, self.app, mode, show)

    def _commands(self) -> Iterator[Command]:
        for kind, name, label in getattr(self, "_found", []):
            text = f"Open {kind}: {label}" + (f" ({name})" if label != name else "")
            yield text, partial(self._open, kind, name), ""

    # Names only when typed: listing every job and cache would bury the actions.
    discover = Provider.discover
