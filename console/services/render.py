"""How figures read, in one place for the CLI, the panes and every report: money, sizes,
durations and token counts; dates and spans people type (`--since 7d`); and tables as aligned
text, Markdown or CSV. Pure functions on plain values, no I/O."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

# -- figures -----------------------------------------------------------------------------------


def ago(seconds: float) -> str:
    return f"{duration(seconds)} ago"


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86_400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86_400}d{(seconds % 86_400) // 3600:02d}h"


def money(usd: float) -> str:
    """Spend at a glance: whole dollars from $100, cents from $1, four places below."""
    if abs(usd) >= 100:
        return f"${usd:,.0f}"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    return f"${usd:.4f}"


def usd(value: float | None) -> str:
    """A per-call price, where fractions of a cent matter: six places below one cent."""
    if value is None:
        return "—"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def saving(usd: float) -> str:
    """A saving vs standard; a negative one (priority costs more) is extra spend, said so."""
    if usd < 0 and money(-usd) != money(0):
        return f"extra {money(-usd)}"
    return money(max(usd, 0.0))


def tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}K"
    if n >= 1000:
        return f"{n / 1000:.1f}K"
    return str(n)


def size(n: float) -> str:
    """Bytes in the largest unit that keeps the figure under 1024: `512 B`, `1.5 KB`."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def timestamp(at: float | None) -> str:
    if at is None:
        return "—"
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M")


# -- moments people type -----------------------------------------------------------------------

SPAN_UNITS = {"d": 86_400, "h": 3_600, "m": 60}
MOMENT_HELP = "use YYYY-MM-DD, an ISO date-time, or a span back from now like 7d, 24h, 30m"


def parse_moment(text: str, *, now: float, end_of_day: bool = False) -> float:
    """A span back from `now` (`7d`, `24h`, `30m`), a date `YYYY-MM-DD` (UTC midnight) or an
    ISO date-time. With `end_of_day`, a bare date means the end of that day (an `--until`
    that includes it). A bad value raises ValueError; callers name their option."""
    text = text.strip()
    if text and text[-1] in SPAN_UNITS and text[:-1].replace(".", "", 1).isdigit():
        return now - float(text[:-1]) * SPAN_UNITS[text[-1]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r}: {MOMENT_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(text) == 10:
        moment += timedelta(days=1)
    return moment.timestamp()


# -- tables: aligned text, Markdown, CSV, JSON -------------------------------------------------

Columns = Sequence[tuple[str, str]]


def grid(columns: Columns, rows: Sequence[Mapping[str, str]], *, markdown: bool = False,
         left: Collection[str] = ()) -> str:
    """Rows as a text table (`left` columns flush left, the rest right: words left, figures
    right, the way a terminal table reads best) or as a Markdown table."""
    keys = [k for k, _ in columns]
    labels = [label for _, label in columns]
    if markdown:
        lines = ["| " + " | ".join(labels) + " |", "|" + "|".join("---" for _ in keys) + "|"]
        lines += ["| " + " | ".join(r[k].replace("|", "\\|") for k in keys) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(label), *(len(r[k]) for r in rows)) for k, label in columns]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if k in left else c.rjust(w)
            for k, c, w in zip(keys, cells, widths, strict=True)
        ).rstrip()

    out = [line(labels), "  ".join("-" * w for w in widths)]
    out += [line([r[k] for k in keys]) for r in rows]
    return "\n".join(out)


def csv_text(records: Sequence[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> str:
    """Records as CSV with a header row (the first record's keys unless `fieldnames`)."""
    out = io.StringIO()
    names = list(fieldnames) if fieldnames is not None else list(records[0]) if records else []
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2)
