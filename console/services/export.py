"""Streaming dataset export of logged (already sanitized) interactions: Gemini tuning JSONL,
OpenAI chat JSONL, or flat CSV.

Rows are read a chunk at a time and written as they come, so memory stays flat for any number of
rows; a file is written beside its destination under a temporary name and renamed into place
only once complete, so a reader never sees half an export.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from console.services import render
from console.services.workspace import Workspace
from store.records import InteractionFilter
from store.repos import interactions as repo

FORMATS = ("gemini", "openai", "csv")
CSV_COLUMNS = (
    "id", "time", "model", "tier", "source", "labels", "prompt_tokens", "output_tokens",
    "thought_tokens", "cost", "system_instruction", "prompt", "response", "contents_json",
)  # fmt: skip
# Progress is reported at most this often (rows), and the stop request is checked as often.
PROGRESS_EVERY = 5_000
WRITE_BUFFER = 1 << 20

# Column positions in repo.stream() rows.
_ID, _AT, _MODEL, _TIER, _SOURCE, _PROMPT, _OUTPUT, _THOUGHT, _COST = range(9)
_SYSTEM, _CONTENTS, _RESPONSE, _LABELS = 9, 10, 11, 12

Progress = Callable[[int, int], None]


class ExportCancelled(Exception):
    """The export was stopped before it finished; no file was left behind."""


class ExportError(Exception):
    """The export could not be written (bad destination, unknown format, bad filter)."""


@dataclass(frozen=True)
class ExportSummary:
    path: str
    format: str
    rows: int
    prompt_tokens: int
    output_tokens: int
    thought_tokens: int
    bytes: int
    seconds: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens + self.thought_tokens

    def line(self) -> str:
        return (
            f"exported {self.rows:,} interaction{'' if self.rows == 1 else 's'} "
            f"({self.prompt_tokens:,} prompt + "
            f"{self.output_tokens:,} output + {self.thought_tokens:,} thought tokens) "
            f"as {self.format} to {self.path} ({render.size(self.bytes)}, {self.seconds:.1f} s)"
        )


# -- filters from what people type -------------------------------------------------------------


def parse_label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ExportError(f"label {text!r}: use key=value")
    return key.strip(), value.strip()


def parse_moment(text: str, *, end_of_day: bool = False, now: float | None = None) -> float:
    """A date `YYYY-MM-DD` (UTC), an ISO date-time, or a span back from now (`7d`, `24h`, `30m`).

    With `end_of_day`, a bare date means the end of that day: `--until 2026-09-21` includes it."""
    try:
        return render.parse_moment(text, now=time.time() if now is None else now,
                                   end_of_day=end_of_day)
    except ValueError as error:
        raise ExportError(str(error)) from None


def make_filter(
    *,
    labels: Iterable[str] = (),
    models: Iterable[str] = (),
    sources: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
    text: str | None = None,
    now: float | None = None,
) -> InteractionFilter:
    """An InteractionFilter from command-line style values (`k=v` labels, dates or spans)."""
    start = parse_moment(since, now=now) if since else None
    end = parse_moment(until, end_of_day=True, now=now) if until else None
    if start is not None and end is not None and end <= start:
        raise ExportError("--until must be after --since")
    return InteractionFilter(
        labels=tuple(parse_label(label) for label in labels),
        models=tuple(m.strip().removeprefix("models/") for m in models if m.strip()),
        sources=tuple(s.strip() for s in sources if s.strip()),
        since=start,
        until=end,
        text=text or None,
    )


# -- the formats -------------------------------------------------------------------------------


def _texts(parts: Sequence[Any]) -> str:
    return "\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


_dumps = orjson.dumps
_MODEL_OPEN = b'{"role":"model","parts":[{"text":'
_SYSTEM_OPEN = b'{"systemInstruction":{"role":"system","parts":[{"text":'


def gemini_line(row: Sequence[Any]) -> bytes:
    """`{"systemInstruction"?, "contents": [turns…, {"role": "model", …}]}`: the Gemini tuning
    shape. The stored turns are already canonical JSON, so they are spliced in unparsed."""
    contents: str = row[_CONTENTS]
    reply = _MODEL_OPEN + _dumps(row[_RESPONSE]) + b"}]}]}\n"
    turns = contents.encode()
    turns = b'"contents":[' + reply if turns == b"[]" else b'"contents":' + turns[:-1] + b"," + reply
    system = row[_SYSTEM]
    if system is None:
        return b"{" + turns
    return _SYSTEM_OPEN + _dumps(system) + b"}]}," + turns


_OPENAI_ROLES = {"user": "user", "model": "assistant", "system": "system"}


def openai_line(row: Sequence[Any]) -> bytes:
    """`{"messages": [{"role": "system"|"user"|"assistant", "content": …}]}`: chat fine-tuning."""
    messages = []
    if row[_SYSTEM] is not None:
        messages.append({"role": "system", "content": row[_SYSTEM]})
    for turn in orjson.loads(row[_CONTENTS]):
        role = _OPENAI_ROLES.get(turn.get("role"), "user")
        messages.append({"role": role, "content": _texts(turn.get("parts") or ())})
    messages.append({"role": "assistant", "content": row[_RESPONSE]})
    return _dumps({"messages": messages}) + b"\n"


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _labels(joined: str | None) -> str:
    return ";".join(sorted(joined.split(repo.LABEL_SEPARATOR))) if joined else ""


def csv_record(row: Sequence[Any]) -> list[Any]:
    """The flat columns of CSV_COLUMNS; `prompt` is the text of the last user turn, `labels`
    the sorted `k=v` pairs joined by ';'."""
    turns = orjson.loads(row[_CONTENTS])
    prompt = next((_texts(t.get("parts") or ()) for t in reversed(turns) if t.get("role") == "user"), "")
    return [
        row[_ID], iso_time(row[_AT]), row[_MODEL], row[_TIER], row[_SOURCE], _labels(row[_LABELS]),
        row[_PROMPT], row[_OUTPUT], row[_THOUGHT], f"{row[_COST]:.6f}", row[_SYSTEM] or "",
        prompt, row[_RESPONSE], row[_CONTENTS],
    ]  # fmt: skip


# -- writing -----------------------------------------------------------------------------------


@dataclass
class _Counts:
    rows: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0


def write_rows(
    chunks: Iterable[Sequence[Sequence[Any]]],
    fmt: str,
    out: IO[bytes],
    *,
    total: int = 0,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> _Counts:
    """Write chunks of rows (as repo.stream() yields them) to a binary stream in `fmt`."""
    counts = _Counts()
    text: io.TextIOWrapper | None = None
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(CSV_COLUMNS)

        def emit(chunk: Sequence[Sequence[Any]]) -> Any:
            return writer.writerows(map(csv_record, chunk))
    else:
        line = gemini_line if fmt == "gemini" else openai_line

        def emit(chunk: Sequence[Sequence[Any]]) -> Any:
            return out.write(b"".join(map(line, chunk)))

    reported = 0
    try:
        for chunk in chunks:
            if should_stop is not None and should_stop():
                raise ExportCancelled(f"export stopped after {counts.rows:,} rows")
            emit(chunk)
            counts.rows += len(chunk)
            counts.prompt_tokens += sum(row[_PROMPT] for row in chunk)
            counts.output_tokens += sum(row[_OUTPUT] for row in chunk)
            counts.thought_tokens += sum(row[_THOUGHT] for row in chunk)
            if progress is not None and counts.rows - reported >= PROGRESS_EVERY:
                reported = counts.rows
                progress(counts.rows, max(total, counts.rows))
    finally:
        if text is not None:
            # Leave `out` open for the caller: the wrapper would close it when collected.
            text.detach()
    if progress is not None:
        progress(counts.rows, max(total, counts.rows))
    return counts


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")


def export_interactions(
    ws: Workspace,
    out: str | os.PathLike[str],
    *,
    fmt: str = "gemini",
    flt: InteractionFilter | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ExportSummary:
    """Export the interactions `flt` covers to the file `out`, oldest first.

    The file appears complete or not at all: rows stream into a temporary file in the same
    folder, which replaces `out` only once every row is written and synced."""
    _check(fmt)
    started = time.perf_counter()
    path = Path(out).expanduser().resolve()  # the summary names the file in full
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent} does not exist")
    # Private (0600) like the database: sanitized, but still the user's data to share or not.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb", buffering=WRITE_BUFFER) as fh:
            counts = _export(ws, fh, fmt, flt, progress, should_stop)
            fh.flush()
            os.fsync(fh.fileno())
            size = fh.tell()
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return ExportSummary(
        path=str(path), format=fmt, rows=counts.rows, prompt_tokens=counts.prompt_tokens,
        output_tokens=counts.output_tokens, thought_tokens=counts.thought_tokens, bytes=size,
        seconds=time.perf_counter() - started,
    )


def export_to_stream(
    ws: Workspace,
    out: IO[bytes],
    *,
    fmt: str = "gemini",
    flt: InteractionFilter | None = None,
    name: str = "stdout",
) -> ExportSummary:
    """Export to an open binary stream (e.g. stdout, for a shell pipeline)."""
    _check(fmt)
    started = time.perf_counter()
    counting = _CountingWriter(out)
    counts = _export(ws, cast(IO[bytes], counting), fmt, flt, None, None)
    out.flush()
    return ExportSummary(
        path=name, format=fmt, rows=counts.rows, prompt_tokens=counts.prompt_tokens,
        output_tokens=counts.output_tokens, thought_tokens=counts.thought_tokens,
        bytes=counting.written, seconds=time.perf_counter() - started,
    )


class _CountingWriter(io.RawIOBase):
    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.inner.write(data)
        self.written += len(data)
        return len(data)


def _export(
    ws: Workspace,
    out: IO[bytes],
    fmt: str,
    flt: InteractionFilter | None,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> _Counts:
    with ws.session() as session:
        total = repo.count(session, flt) if progress is not None else 0
        if progress is not None:
            progress(0, total)
        rows = repo.stream(session, flt, with_labels=fmt == "csv")
        return write_rows(rows, fmt, out, total=total, progress=progress, should_stop=should_stop)
