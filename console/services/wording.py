"""Words shared by every message gemops prints: counts with the right plural."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 token`, `2 tokens`, `1,024 entries` (give `many` when adding an s is wrong)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
