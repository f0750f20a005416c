"""Sanitized logging of prompts and responses, with labels.

Whether a call is logged, decided per call in this order:

1. ``record_interaction(..., log=True/False)``: an explicit per-call choice (True also skips
   sampling);
2. the innermost active ``logging_run(ws, source=…)`` for the call's source, then the innermost
   one for every source (``source=None``): a per-run toggle, e.g. ``with logging_run(ws,
   source="tiers", labels={"run": "42"}):`` around one tier test or one drop-folder watch;
3. ``set_session_logging(ws, True/False)``: the console's toggle, for this process only;
4. ``settings.logging.enabled`` (``GEMOPS_LOGGING__ENABLED=1`` switches it for one command).

Logged calls are sampled (``logging.sample_every``: every Nth) and carry ``logging.labels``,
then the active runs' labels, then the call's own labels (later ones win on the same key).
The system instruction, every turn and the response are redacted with one ``Redactor`` scope
per interaction *before* anything is written; raw text never reaches the database, a log line
or an exception message. Binary parts (images, documents) are never kept, only their type.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from console.services.pricing import Usage
from console.services.redact import Redactor
from console.services.workspace import Workspace
from store.records import Interaction, InteractionFilter, InteractionTotals
from store.repos import interactions as repo

if TYPE_CHECKING:
    from console.services.gateway import Exchange
    from store.engine import Store

log = logging.getLogger(__name__)

REDACTION_MODES = ("token", "pseudonym")
# The background writer commits what it has every FLUSH_S, or sooner once BATCH_ROWS wait.
FLUSH_S = 0.25
BATCH_ROWS = 500
# Calls waiting to be redacted and written; past this a burst is dropped (and counted), never
# allowed to block the gateway or grow memory without bound.
MAX_PENDING = 20_000

__all__ = [
    "InteractionLog",
    "LogView",
    "flush_interactions",
    "get_interaction",
    "interaction_count",
    "interaction_totals",
    "log_view",
    "logging_enabled",
    "logging_run",
    "recent_interactions",
    "record_interaction",
    "render_interaction",
    "sanitize",
    "set_session_logging",
]


# -- the per-run switches ----------------------------------------------------------------------


@dataclass
class _Run:
    source: str | None
    enabled: bool | None
    labels: dict[str, str]


@dataclass
class _Switches:
    """What this process decided about logging, beside the settings: kept per workspace."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    session: bool | None = None
    runs: list[_Run] = field(default_factory=list)
    # Calls seen while logging was on: every `sample_every`-th is logged, starting with the first.
    seen: int = 0
    # The gateway's observer, once connected: `flush_interactions` waits on it.
    observer: InteractionLog | None = None


_SWITCHES: dict[int, _Switches] = {}
_SWITCHES_LOCK = threading.Lock()


def _switches(ws: Workspace) -> _Switches:
    # Keyed by identity (a Workspace is not hashable); the entry goes when the workspace does.
    key = id(ws)
    with _SWITCHES_LOCK:
        found = _SWITCHES.get(key)
        if found is None:
            found = _SWITCHES[key] = _Switches()
            weakref.finalize(ws, _SWITCHES.pop, key, None)
        return found


def set_session_logging(ws: Workspace, enabled: bool | None) -> None:
    """Switch logging on or off for this process (None: follow ``settings.logging.enabled``).

    Nothing is saved: the console's toggle lasts until it quits."""
    state = _switches(ws)
    with state.lock:
        state.session = enabled


@contextlib.contextmanager
def logging_run(
    ws: Workspace,
    *,
    source: str | None = None,
    enabled: bool | None = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """While the block runs, calls from `source` (every source when None) are logged or not as
    `enabled` says (None: leave the decision to the settings) and carry `labels`."""
    run = _Run(source, enabled, _checked_labels(labels))
    state = _switches(ws)
    with state.lock:
        state.runs.append(run)
    try:
        yield
    finally:
        with state.lock:
            state.runs.remove(run)


def logging_enabled(ws: Workspace, source: str | None = None) -> bool:
    """Would a call from `source` be logged (before sampling)?"""
    state = _switches(ws)
    with state.lock:
        return _enabled(ws, state, source)


def _enabled(ws: Workspace, state: _Switches, source: str | None) -> bool:
    for wanted in (source, None):
        for run in reversed(state.runs):
            if run.source == wanted and run.enabled is not None:
                return run.enabled
        if source is None:
            break
    if state.session is not None:
        return state.session
    return ws.settings.logging.enabled


def _decide(
    ws: Workspace, source: str, log_call: bool | None, labels: Mapping[str, str] | None
) -> dict[str, str] | None:
    """The labels to log this call with, or None when it is not to be logged."""
    state = _switches(ws)
    settings = ws.settings.logging
    with state.lock:
        if log_call is False:
            return None
        if log_call is None:
            if not _enabled(ws, state, source):
                return None
            every = max(1, settings.sample_every)
            state.seen += 1
            if (state.seen - 1) % every:
                return None
        merged = dict(settings.labels)
        for run in state.runs:
            if run.source in (None, source):
                merged.update(run.labels)
    merged.update(_checked_labels(labels))
    return merged


def _checked_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not key.strip() or "=" in key:
            raise ValueError("label keys must be non-empty strings without '='")
        checked[key.strip()] = str(value)
    return checked


# -- sanitizing --------------------------------------------------------------------------------


@functools.cache
def _redactor(mode: str, engine: str = "default") -> Redactor:
    return Redactor(mode=mode, engine=engine)  # type: ignore[arg-type]


def _mode(ws: Workspace) -> str:
    mode = ws.settings.logging.redaction
    if mode not in REDACTION_MODES:
        raise ValueError(f"logging.redaction must be 'token' or 'pseudonym', not {mode!r}")
    return mode


_CAMEL = {
    "inline_data": "inlineData", "file_data": "fileData", "mime_type": "mimeType",
    "file_uri": "fileUri", "function_call": "functionCall",
    "function_response": "functionResponse", "executable_code": "executableCode",
    "code_execution_result": "codeExecutionResult", "display_name": "displayName",
    "video_metadata": "videoMetadata", "thought_signature": "thoughtSignature",
}  # fmt: skip
# Binary payloads are never kept: an image or a document can hold PII no text scan can find.
_DROPPED = frozenset({"data", "thoughtSignature"})


def _plain(value: Any) -> Any:
    """SDK objects (pydantic models) as the dicts they serialise to."""
    dump = getattr(value, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else value


def _clean(value: Any, redactor: Redactor) -> Any:
    """A JSON value with every string redacted and binary payloads left out."""
    value = _plain(value)
    if isinstance(value, str):
        return redactor.redact(value).text
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            name = _CAMEL.get(str(key), str(key))
            if name in _DROPPED or isinstance(item, bytes | bytearray):
                continue
            cleaned[name] = _clean(item, redactor)
        return cleaned
    if isinstance(value, list | tuple):
        return [_clean(item, redactor) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an image object, a file handle) is named, never serialised.
    return {"omitted": type(value).__name__}


def _redact_together(texts: Sequence[str], redactor: Redactor) -> list[str]:
    """Redact consecutive text parts as the one text the model reads, so an entity split
    across two parts (a long document sent in chunks) is still found. Each replacement token
    goes to the part where its entity starts; the entity's remainder in later parts is dropped.
    """
    if len(texts) == 1:
        return [redactor.redact(texts[0]).text]
    joined = "".join(texts)
    result = redactor.redact(joined)
    if not result.findings:
        return list(texts)
    starts = list(itertools.accumulate((len(t) for t in texts[:-1]), initial=0))
    pieces: list[list[str]] = [[] for _ in texts]

    def copy(a: int, b: int) -> None:
        k = bisect.bisect_right(starts, a) - 1
        while a < b:
            upto = min(b, starts[k] + len(texts[k]))
            if upto > a:
                pieces[k].append(joined[a:upto])
                a = upto
            k += 1

    redacted, cursor, done = result.text, 0, 0
    for finding in result.findings:
        copy(done, finding.start)
        cursor += finding.start - done
        # Replacements are `[TYPE_REDACTED]` or `[TYPE_N]`: they end at the first ']'.
        close = redacted.index("]", cursor) + 1
        pieces[bisect.bisect_right(starts, finding.start) - 1].append(redacted[cursor:close])
        cursor, done = close, finding.end
    copy(done, len(joined))
    return ["".join(p) for p in pieces]


def _text_part(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        return value["text"]
    return None


def _parts(parts: Sequence[Any], redactor: Redactor) -> list[dict[str, Any]]:
    """A turn's parts, redacted: runs of text parts together, anything else value by value."""
    plain = [_plain(p) for p in parts]
    cleaned: list[dict[str, Any] | None] = [None] * len(plain)
    run: list[int] = []

    def flush() -> None:
        texts = _redact_together([_text_part(plain[i]) or "" for i in run], redactor)
        for i, text in zip(run, texts, strict=True):
            rest = plain[i]
            extra = {k: v for k, v in rest.items() if k != "text"} if isinstance(rest, Mapping) else {}
            cleaned[i] = {"text": text, **_clean(extra, redactor)}
        run.clear()

    for i, part in enumerate(plain):
        if _text_part(part) is not None:
            run.append(i)
            continue
        if run:
            flush()
        value = _clean(part, redactor)
        cleaned[i] = value if isinstance(value, dict) else {"omitted": type(part).__name__}
    if run:
        flush()
    return [c for c in cleaned if c is not None]


def _is_content(value: Any) -> bool:
    return isinstance(value, Mapping) and ("parts" in value or "role" in value)


def sanitize(contents: Any, redactor: Redactor) -> list[dict[str, Any]]:
    """`contents` in any shape the SDK takes (a string, a list of strings or parts, Content
    dicts or objects) as redacted REST-shaped turns: ``[{"role": …, "parts": [...]}]``.

    As in the SDK, consecutive strings and parts make one user turn.
    """
    contents = _plain(contents)
    items = contents if isinstance(contents, list | tuple) else [contents]
    turns: list[tuple[str, list[Any]]] = []
    loose: list[Any] = []
    for item in items:
        item = _plain(item)
        if _is_content(item):
            if loose:
                turns.append(("user", loose))
                loose = []
            role = item.get("role") or "user"
            parts = item.get("parts") or []
            if not isinstance(parts, list | tuple):
                parts = [parts]
            turns.append((role if isinstance(role, str) else "user", list(parts)))
        elif item is not None:
            loose.append(item)
    if loose:
        turns.append(("user", loose))
    return [{"role": role, "parts": _parts(parts, redactor)} for role, parts in turns]


def instruction_texts(system_instruction: Any) -> list[str] | None:
    """A system instruction given as text, a part, a Content or a list of them, as its texts."""
    value = _plain(system_instruction)
    if value is None:
        return None
    if _is_content(value):
        value = value.get("parts") or []
    items = value if isinstance(value, list | tuple) else [value]
    texts = [text for item in items if (text := _text_part(_plain(item))) is not None]
    return texts or None


def _row(
    redactor: Redactor,
    *,
    at: float,
    model: str,
    tier: str,
    source: str,
    contents: Any,
    system_instruction: Any,
    response_text: str,
    usage: Usage,
    cost: float,
) -> dict[str, Any]:
    """One interaction's columns, redacted with one redactor scope so pseudonyms agree across the
    system instruction, the turns and the response."""
    with redactor.scope() as scoped:
        texts = instruction_texts(system_instruction)
        system = None if texts is None else "\n".join(_redact_together(texts, scoped))
        return {
            "at": at,
            "model": model.removeprefix("models/"),
            "tier": tier,
            "source": source,
            "prompt_tokens": usage.prompt_tokens,
            "output_tokens": usage.output_tokens,
            "thought_tokens": usage.thought_tokens,
            "cost": cost,
            "system_instruction": system,
            "contents_json": orjson.dumps(sanitize(contents, scoped)).decode(),
            "response_text": scoped.redact(response_text or "").text,
        }


# -- writing -----------------------------------------------------------------------------------


def record_interaction(
    ws: Workspace,
    *,
    model: str,
    tier: str,
    source: str,
    contents: Any,
    system_instruction: str | None,
    response_text: str,
    usage: Usage,
    cost: float,
    labels: dict[str, str] | None = None,
    log: bool | None = None,
    at: float | None = None,
) -> int | None:
    """Log one interaction now (redacted first); its id, or None when it is not logged.

    `log` overrides the settings and runs for this one call; `at` defaults to the clock."""
    merged = _decide(ws, source, log, labels)
    if merged is None:
        return None
    row = _row(
        _redactor(_mode(ws), ws.settings.redaction.engine), at=ws.clock() if at is None else at, model=model, tier=tier,
        source=source, contents=contents, system_instruction=system_instruction,
        response_text=response_text, usage=usage, cost=cost,
    )
    with ws.session() as session:
        return repo.insert_many(session, [row], [merged])[0]


@dataclass
class _Pending:
    at: float
    exchange: Exchange
    labels: dict[str, str]


# Put on the writer's queue: set once everything queued before it is written.
_Marker = threading.Event
_STOP = object()


class InteractionLog:
    """The gateway's observer: decides on the gateway's loop (a lock and a counter), then hands
    the call to a writer thread that redacts and inserts in batches, so no call waits on it."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[Any] = queue.Queue(MAX_PENDING)
        # Held once opened: the writer must not need the workspace's lock while it closes.
        self._store: Store | None = None
        self._thread = threading.Thread(
            target=self._serve, name="gemops-interactions", daemon=True
        )
        self._thread.start()

    @classmethod
    def attach(cls, ws: Workspace, gateway: Any) -> InteractionLog:
        """Observe every successful generate of `gateway`."""
        interaction_log = cls(ws)
        gateway.observers.append(interaction_log.observe)
        _switches(ws).observer = interaction_log
        return interaction_log

    def observe(self, exchange: Exchange) -> None:
        try:
            labels = _decide(self.ws, exchange.source, None, None)
            if labels is None:
                return
            self._queue.put_nowait(_Pending(self.ws.clock(), exchange, labels))
        except queue.Full:
            self.dropped += 1
            log.warning("interaction log: %d calls waiting; one was not logged", MAX_PENDING)
        except Exception as error:  # logging must never fail the call it watches
            self.failed += 1
            log.error("interaction log: a call was not logged (%s)", type(error).__name__)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every call observed so far is written (or given up on); False on timeout."""
        if not self._thread.is_alive():
            return True
        marker = _Marker()
        self._queue.put(marker, timeout=timeout)
        return marker.wait(timeout)

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        if not self._thread.is_alive():
            return
        if self._store is None and not self._queue.empty():
            # Workspace.close() calls this holding the workspace's lock, which the writer
            # thread would need to open the store: open it here, in the lock's owner.
            self._store = self.ws.store
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    # -- the writer thread -------------------------------------------------------------------

    def _serve(self) -> None:
        batch: list[_Pending] = []
        deadline = 0.0
        while True:
            try:
                wait = max(0.0, deadline - time.monotonic()) if batch else None
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if isinstance(item, _Pending):
                if not batch:
                    deadline = time.monotonic() + FLUSH_S
                batch.append(item)
                if len(batch) < BATCH_ROWS and time.monotonic() < deadline:
                    continue
            if batch:
                self._write(batch)
                batch = []
            # A marker or the stop: everything queued before it is written by now.
            if item is _STOP:
                return
            if isinstance(item, _Marker):
                item.set()

    def _write(self, batch: list[_Pending]) -> None:
        try:
            redactor = _redactor(_mode(self.ws), self.ws.settings.redaction.engine)
            rows = []
            for pending in batch:
                ex = pending.exchange
                gen = ex.generation
                config = ex.config or {}
                rows.append(
                    _row(
                        redactor, at=pending.at, model=ex.model, tier=ex.tier, source=ex.source,
                        contents=ex.contents,
                        system_instruction=config.get("system_instruction")
                        or config.get("systemInstruction"),
                        response_text=gen.text, usage=gen.usage, cost=gen.cost,
                    )
                )
            if self._store is None:
                self._store = self.ws.store
            with self._store.session() as session:
                repo.insert_many(session, rows, [p.labels for p in batch])
        except Exception as error:
            # Only the type: a driver's message could quote the statement's parameters.
            self.failed += len(batch)
            log.error(
                "interaction log: %d interactions not written (%s)", len(batch),
                type(error).__name__,
            )
            return
        self.written += len(batch)


def flush_interactions(ws: Workspace, timeout: float | None = 30.0) -> bool:
    """Wait until the calls observed so far are written; False if that took over `timeout`."""
    observer = _switches(ws).observer
    return observer.flush(timeout) if observer is not None else True


# -- reading -----------------------------------------------------------------------------------


def recent_interactions(
    ws: Workspace, limit: int = 200, flt: InteractionFilter | None = None
) -> list[Interaction]:
    with ws.session() as session:
        return repo.page(session, flt, limit=limit)


def interaction_count(ws: Workspace, flt: InteractionFilter | None = None) -> int:
    with ws.session() as session:
        return repo.count(session, flt)


def interaction_totals(ws: Workspace, flt: InteractionFilter | None = None) -> InteractionTotals:
    with ws.session() as session:
        return repo.totals(session, flt)


def get_interaction(ws: Workspace, interaction_id: int) -> Interaction | None:
    with ws.session() as session:
        return repo.get(session, interaction_id)



def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return str(part)
    if isinstance(part.get("text"), str):
        return ("(thought) " if part.get("thought") else "") + part["text"]
    kind = next(iter(part), "part")
    detail = part.get(kind)
    if isinstance(detail, dict):
        brief = detail.get("mimeType") or detail.get("name") or ""
        rest = {k: v for k, v in detail.items() if k not in ("mimeType", "name")}
        tail = f" {orjson.dumps(rest).decode()}" if rest else ""
        return f"[{kind} {brief}{tail}]".replace(" ]", "]")
    return f"[{kind}]"


def render_interaction(interaction: Interaction) -> str:
    """One logged interaction as plain text: header, labels, system instruction, turns, reply."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(interaction.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    labels = " ".join(f"{k}={v}" for k, v in sorted(interaction.labels.items())) or "(none)"
    lines = [
        f"#{interaction.id} · {moment} · {interaction.model} · {interaction.tier} · "
        f"source {interaction.source}",
        f"tokens {interaction.prompt_tokens:,} in / {interaction.output_tokens:,} out / "
        f"{interaction.thought_tokens:,} thought · cost ${interaction.cost:.6f}",
        f"labels {labels}",
    ]
    if interaction.system_instruction is not None:
        lines += ["", "── system ──", interaction.system_instruction]
    for turn in orjson.loads(interaction.contents_json):
        lines += ["", f"── {turn.get('role', 'user')} ──"]
        lines += [_part_text(p) for p in turn.get("parts") or ()]
    lines += ["", "── response ──", interaction.response_text]
    return "\n".join(lines)


def prompt_preview(contents_json: str, width: int = 80) -> str:
    """The last user turn's text on one line, cut to `width` characters."""
    turns = orjson.loads(contents_json)
    for turn in reversed(turns):
        if turn.get("role", "user") == "user":
            text = " ".join(_part_text(p) for p in turn.get("parts") or ())
            flat = " ".join(text.split())
            return flat if len(flat) <= width else flat[: width - 1] + "…"
    return ""


@dataclass(frozen=True)
class LogView:
    """What the logs pane shows for one filter: a page of rows, the filter's totals, the values
    there are to filter on, whether logging is on, and the newest id when it was read."""

    interactions: list[Interaction]
    previews: dict[int, str]
    totals: InteractionTotals
    choices: dict[str, list[str]]
    logging_on: bool
    filter: InteractionFilter
    newest_id: int | None


def split_query(query: str) -> tuple[list[str], str | None]:
    """`dataset=v2 refund policy` -> labels ['dataset=v2'], text 'refund policy'."""
    labels: list[str] = []
    words: list[str] = []
    for word in query.split():
        (labels if "=" in word.strip("=") else words).append(word)
    return labels, " ".join(words) or None


def log_view(
    ws: Workspace,
    *,
    query: str = "",
    model: str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 500,
    unless_newest: int | None = None,
) -> LogView | None:
    """Read the logs pane's view; raises ExportError for a filter that does not parse.

    With `unless_newest`, None when nothing was logged since that id: totals over a large log
    cost a scan, and the pane asks on every sync tick."""
    from console.services.export import make_filter

    labels, text = split_query(query)
    flt = make_filter(
        labels=labels, models=[model] if model else [], sources=[source] if source else [],
        since=since or None, until=until or None, text=text, now=ws.clock(),
    )
    with ws.session() as session:
        newest = repo.newest_id(session)
        if unless_newest is not None and newest == unless_newest:
            return None
        rows = repo.page(session, flt, limit=limit)
        totals = repo.totals(session, flt)
        choices = repo.distinct_values(session)
    return LogView(
        interactions=rows,
        previews={i.id: prompt_preview(i.contents_json) for i in rows},
        totals=totals,
        choices=choices,
        logging_on=logging_enabled(ws),
        filter=flt,
        newest_id=newest,
    )
