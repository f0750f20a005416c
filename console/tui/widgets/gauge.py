"""Text gauges for table cells: a bar and the figures, coloured as the limit nears."""

from __future__ import annotations

from rich.text import Text

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int = 10) -> str:
    """A bar `width` cells wide, with eighth-cell resolution."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BLOCKS[part] if part else "")
    return text.ljust(width, "·")


def gauge(used: float, limit: float | None, label: str, width: int = 10) -> Text:
    if not limit:
        return Text(f"{'·' * width} {label}", style="dim")
    fraction = used / limit
    style = "red bold" if fraction >= 0.9 else "yellow" if fraction >= 0.7 else "green"
    return Text.assemble((bar(fraction, width), style), f" {label}")
