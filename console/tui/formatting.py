"""How figures read on screen: ages, durations, money, token counts — the shared rules in
`console.services.render`, named here for the panes."""

from __future__ import annotations

from console.services.render import ago, duration, money, saving, timestamp, tokens

__all__ = ["ago", "duration", "money", "saving", "timestamp", "tokens"]
