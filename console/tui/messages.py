"""Every Message the console posts: workers post these, screen handlers update widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class Flash(Message):
    """A transient line at the bottom of the screen (k9s-style), cleared by itself."""

    text: str
    severity: str = "information"


@dataclass
class Connected(Message):
    """The gateway is up (emulator started when there is no key)."""

    mode: str
    base_url: str | None


@dataclass
class ConnectFailed(Message):
    error: str


@dataclass
class SyncFinished(Message):
    """A sync tick ended; `error` is set when it failed (the console then shows OFFLINE)."""

    at: float
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        # Latest value wins: an older tick's result still queued is stale.
        return isinstance(message, SyncFinished)


@dataclass
class StoreChanged(Message):
    """Rows changed in SQLite (after a sync or an action): panes re-read what they show."""

    area: str = "all"

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged) and message.area == self.area
