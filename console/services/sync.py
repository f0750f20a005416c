"""The remote -> SQLite mirror: a tick lists caches, batch jobs and files (largest pages the
API allows) and upserts them in one transaction; rows that vanished remotely are marked gone,
never deleted. `SyncLoop` runs ticks one at a time at a steady cadence, for the console, the
drop folder and `gemops sync` alike; with `collect`, a good tick then writes the results of
the jobs that finished (batches.collect_finished, the one results writer)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from console.services.backoff import CADENCE_DOUBLINGS, backoff
from console.services.errors import GatewayError
from console.services.remote import RemoteBatch, RemoteCache, RemoteFile
from console.services.wording import plural
from console.services.workspace import Workspace
from console.settings import SyncSettings
from store.records import SyncState
from store.repos import batches, caches, files, sync_state

if TYPE_CHECKING:
    from console.services.batches import ResultsWritten

log = logging.getLogger(__name__)

RemoteRecord = RemoteCache | RemoteBatch | RemoteFile

RESOURCES = ("caches", "batches", "files")
# The largest page each list method serves (cachedContents and batches 1,000, files 100):
# 10,000 batch jobs are 10 round trips, not 200 at the default size.
PAGE_SIZES = {"caches": 1000, "batches": 1000, "files": 100}
# The sync_state row that sums up a whole tick (and drives the back-off).
ALL = "all"


@dataclass(frozen=True)
class TickResult:
    """What one tick did: rows seen per resource, and per resource what went wrong."""

    at: float
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Resources whose listing failed because the API could not be reached (or was down).
    unreachable: frozenset[str] = frozenset()
    gone: int = 0
    # Batch jobs pending or running after this tick: the loop ticks faster while there are any.
    running: int = 0
    consecutive_errors: int = 0
    duration_ms: float = 0.0
    # With SyncLoop(collect=True): the results written after this tick, or why that failed.
    written: tuple[ResultsWritten, ...] = ()
    collect_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error(self) -> str | None:
        if not self.errors:
            return None
        return "; ".join(f"{resource}: {text}" for resource, text in self.errors.items())

    @property
    def offline(self) -> bool:
        """No listing got through because the API is unreachable: the panes show the last state."""
        return bool(self.unreachable) and self.unreachable >= set(self.counts) | set(self.errors)

    @property
    def caches(self) -> int:
        return self.counts.get("caches", 0)

    @property
    def batches(self) -> int:
        return self.counts.get("batches", 0)

    @property
    def files(self) -> int:
        return self.counts.get("files", 0)

    def summary(self) -> str:
        if self.offline:
            return f"offline: {self.error}"
        text = (
            f"synced {plural(self.caches, 'cache')}, {plural(self.batches, 'batch job')}, "
            f"{plural(self.files, 'file')}"
            f" ({self.gone:,} gone) in {self.duration_ms:,.0f} ms"
        )
        return text if self.ok else f"{text}; failed: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at, "ok": self.ok, "offline": self.offline, "counts": self.counts,
            "errors": self.errors, "gone": self.gone, "running": self.running,
            "consecutive_errors": self.consecutive_errors,
            "duration_ms": round(self.duration_ms, 1),
        }


_MIRRORS = {
    "caches": caches.mirror_remote,
    "batches": batches.mirror_remote,
    "files": files.mirror_remote,
}
_TABLES = {"caches": "cached_contents", "batches": "batch_jobs", "files": "remote_files"}


async def _list_all(
    ws: Workspace, resources: Sequence[str]
) -> dict[str, Sequence[RemoteRecord] | BaseException]:
    """Each collection, concurrently; one failing does not stop the others."""
    gateway = ws.gateway
    listings: dict[str, Callable[..., Awaitable[Sequence[RemoteRecord]]]] = {
        "caches": gateway.list_caches, "batches": gateway.list_batches,
        "files": gateway.list_files}
    listed: list[Sequence[RemoteRecord] | BaseException] = await asyncio.gather(
        *(listings[r](page_size=PAGE_SIZES[r]) for r in resources), return_exceptions=True,
    )
    return dict(zip(resources, listed, strict=True))


def is_unreachable(error: BaseException) -> bool:
    """No answer, or the service is down — as opposed to an answer saying no (401, 403, ...)."""
    if isinstance(error, GatewayError):
        return error.status is None or error.status >= 500
    return _transport_failure(error)


def _transport_failure(error: BaseException) -> bool:
    # The SDK talks through httpx or its fork httpx2, whichever is installed: both raise a
    # TransportError subclass (connect refused, timeout, dropped connection).
    return isinstance(error, OSError) or any(
        cls.__name__ == "TransportError" and cls.__module__.startswith("httpx")
        for cls in type(error).__mro__
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, GatewayError):
        return str(error)
    if _transport_failure(error):
        return f"connection failed: {type(error).__name__}: {error}"
    # Not the API's doing (a bug, or a response we cannot read): keep the traceback in the log.
    log.error("sync: unexpected error", exc_info=error)
    return f"{type(error).__name__}: {error}"


def _mirror(session: Any, resource: str, rows: list[dict[str, Any]], now: float) -> int:
    """Upsert only the rows that differ from what SQLite holds, and mark the ones no longer
    listed gone: a steady tick over 10,000 finished batch jobs then writes next to nothing
    (and rewrites no page of the database). Returns how many rows became gone."""
    table = _TABLES[resource]
    columns = [c for c in rows[0] if c != "name"] if rows else []
    stored = sync_state.live_snapshot(session, table, columns)
    changed = [r for r in rows if stored.get(r["name"]) != tuple(r[c] for c in columns)]
    _MIRRORS[resource](session, changed, now=now, complete=False)
    listed = {r["name"] for r in rows}
    return sync_state.mark_gone(session, table, [n for n in stored if n not in listed], now=now)


def sync_once(ws: Workspace, resources: Sequence[str] = RESOURCES) -> TickResult:
    """One tick, from any thread but the gateway's. Failures are recorded per resource (and
    returned), never raised: what did list is still mirrored. A tick over some `resources`
    only (a command refreshing what it shows) leaves the whole-tick record alone."""
    unknown = set(resources) - set(RESOURCES)
    if unknown:
        raise ValueError(f"unknown resources {sorted(unknown)}; known: {', '.join(RESOURCES)}")
    whole = set(resources) == set(RESOURCES)
    now = ws.clock()
    started = time.perf_counter()
    rows: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    unreachable: set[str] = set()
    try:
        listed: dict[str, Any] = ws.gateway.run(_list_all(ws, resources))
    except Exception as error:  # no gateway at all: the connection could not be made
        listed = dict.fromkeys(resources, error)
        unreachable.update(resources)
    for resource, outcome in listed.items():
        if isinstance(outcome, BaseException):
            errors[resource] = _describe(outcome)
            if is_unreachable(outcome):
                unreachable.add(resource)
            continue
        try:
            rows[resource] = [remote.row() for remote in outcome]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            errors[resource] = _describe(error)
    try:
        with ws.session() as session:
            gone = sum(_mirror(session, r, rows[r], now) for r in rows)
            running = batches.running_count(session)
            duration = (time.perf_counter() - started) * 1000
            for resource in resources:
                if resource in errors:
                    sync_state.record_error(session, resource, at=now, error=errors[resource])
                else:
                    sync_state.record_success(session, resource, at=now, duration_ms=duration)
            if whole and errors:
                summary = "; ".join(f"{r}: {t}" for r, t in errors.items())
                sync_state.record_error(session, ALL, at=now, error=summary[:2000])
            elif whole:
                sync_state.record_success(session, ALL, at=now, duration_ms=duration)
            state = sync_state.get(session, ALL)
    except Exception as error:  # the store itself failed (disk full, locked past the timeout)
        log.error("sync: could not write the mirror", exc_info=error)
        errors["store"] = f"{type(error).__name__}: {error}"
        return TickResult(
            at=now, errors=errors, unreachable=frozenset(unreachable),
            duration_ms=(time.perf_counter() - started) * 1000,
            consecutive_errors=1,
        )
    if "batches" in rows:
        _after_tick(ws)
    return TickResult(
        at=now,
        counts={r: len(v) for r, v in rows.items()},
        errors=errors,
        unreachable=frozenset(unreachable),
        gone=gone,
        running=running,
        consecutive_errors=state.consecutive_errors if state else 0,
        duration_ms=duration,
    )


def _after_tick(ws: Workspace) -> None:
    """Issue 15: the stuck-batch policy, and a judging pass started in the background."""
    from console.services import quality
    from console.services.batches import recreate_stuck

    try:
        for old, new in recreate_stuck(ws):
            log.warning("batch %s was stuck in PENDING: cancelled, resubmitted as %s", old, new)
    except Exception as error:  # tried again next tick (the intent is recorded)
        log.error("sync: recreating a stuck batch failed: %s", error)
    quality.kick(ws)


def _collected(ws: Workspace, result: TickResult) -> TickResult:
    """The tick's result with the results written after it (retried next tick on failure)."""
    from console.services.batches import collect_finished

    try:
        written = collect_finished(ws)
    except Exception as error:  # not transient (collect_finished retries those): say why
        log.error("sync: writing batch results failed", exc_info=error)
        return replace(result, collect_error=f"{type(error).__name__}: {error}")
    return replace(result, written=tuple(written))


def sync_states(ws: Workspace) -> list[SyncState]:
    """The last sync of each resource, and of whole ticks (`all`), as recorded."""
    with ws.session() as session:
        return sorted(sync_state.all_states(session), key=lambda s: (s.resource != ALL, s.resource))


def next_interval(settings: SyncSettings, last: TickResult | None, *,
                  busy: bool | None = None) -> float:
    """Steady cadence; faster while a batch runs (or while `busy`, when the caller knows
    better which jobs it waits for); exponential back-off after errors."""
    if last is not None and last.consecutive_errors:
        return backoff(settings.interval_s, last.consecutive_errors,
                       cap_s=settings.max_backoff_s, most_doublings=CADENCE_DOUBLINGS)
    if busy if busy is not None else (last is not None and last.running):
        return settings.fast_interval_s
    return settings.interval_s


class SyncLoop:
    """Ticks one at a time: a tick asked for while another runs is dropped, not queued (k9s).

    The console drives it from a timer and a thread worker, the drop folder from its poll;
    `run()` is the headless loop. With `collect`, each good tick is followed by writing the
    results of jobs that finished (one writer for every path: batches.collect_finished)."""

    def __init__(self, ws: Workspace, *, collect: bool = False) -> None:
        self.ws = ws
        self.collect = collect
        self.last: TickResult | None = None
        self._busy = threading.Lock()

    @property
    def in_flight(self) -> bool:
        return self._busy.locked()

    def tick(self) -> TickResult | None:
        """Sync now; None when a tick is already in flight."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            result = sync_once(self.ws)
            if self.collect and result.error is None:
                result = _collected(self.ws, result)
            self.last = result
        finally:
            self._busy.release()
        return self.last

    def interval(self) -> float:
        return next_interval(self.ws.settings.sync, self.last)

    def run(
        self,
        stop: threading.Event,
        on_tick: Callable[[TickResult], None] | None = None,
        *,
        once: bool = False,
    ) -> None:
        """Tick until `stop` is set (or once), sleeping the cadence between ticks."""
        while not stop.is_set():
            result = self.tick()
            if result is not None and on_tick is not None:
                on_tick(result)
            if once:
                return
            stop.wait(self.interval())
