"""Command palette provider: jump to any pane, sync now, load samples."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class PaneCommands(Provider):
    def _commands(self):
        app = self.app
        for number, (mode, title) in enumerate(app.PANES, start=1):
            yield f"Go to {title} ({number})", partial(app.switch_mode, mode)
        yield "Sync now", app.action_sync_now
        yield "Help: show keys", app.action_help

    async def discover(self) -> Hits:
        for text, run in self._commands():
            yield DiscoveryHit(text, run)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, run in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run)
