"""The drop folder: watch DIR, settle, claim, validate, route, submit — each file exactly once.

Layout (made on start):

    DIR/*.jsonl            routed by size: under `drop.batch_threshold` requests run
                           concurrently on standard, larger files go to the Batch API
    DIR/batch/             Batch API
    DIR/flex/ standard/ priority/
                           concurrent calls through the gateway on that tier (bounded,
                           rate-limited; when the circuit breaker opens, the rest goes to batch)
    DIR/submitted/         valid files (moved here before anything is sent), each with
                           `<name>.status.json` beside it
    DIR/rejected/          invalid files (or ones the API refused), with `<name>.errors.txt`
    DIR/duplicates/        content that was already submitted (reported, never sent again)
    DIR/results/           `<name>.jsonl`, one line per input key in input order; images in
                           `results/<name>/<key>-<n>.png`

A file is picked up when it is complete: its size and mtime have been still for
`drop.settle_ms` (an atomic rename in is complete at once if it was written earlier) and its
last line is whole. `.tmp`, `.part` and hidden files are ignored. Nothing is ever deleted.

Exactly once: the content hash is claimed in SQLite before anything is sent, and every step
is recorded as it happens (see console/services/batches.py); a restart, even after kill -9,
resumes each claim from its step. On a local SQLite store, one watcher per folder (a lock
file in DIR/.gemops). On a shared store (`store.url`, PostgreSQL) several watchers, on several
hosts, may watch one folder: the claim row decides who sends a file, and whoever works on a
claim holds a lease on it (`drop.lease_s`, renewed by a heartbeat while it works), so a
watcher that dies leaves its claims to be taken up by another once the lease runs out.

Crash tests set GEMOPS_TEST_CRASH_AT=<step> (claimed, validated, uploaded, submitting,
created, submitted): the watcher SIGKILLs itself right after recording that step.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.exc import OperationalError

from console.services import batches, budget, jsonl
from console.services.backoff import backoff
from console.services.batches import (
    CLAIMED,
    DONE,
    FAILED,
    IN_PROGRESS,
    REJECTED,
    RUNNING,
    SUBMITTED,
    SUBMITTING,
    UPLOADED,
    VALIDATED,
    checkpoint,
    record_step,
)
from console.services.callbook import owner_alive, process_owner
from console.services.errors import GatewayError
from console.services.limits import CircuitOpen, QuotaExhausted
from console.services.pricing import PriceTable
from console.services.redact import redact
from console.services.sync import SyncLoop, next_interval
from console.services.wording import plural
from console.services.workspace import Workspace
from store.records import DropFile
from store.repos import batches as batch_repo
from store.repos import drops

BATCH = "batch"
CONCURRENT = ("flex", "standard", "priority")
ROUTES = (BATCH, *CONCURRENT)
AUTO = "auto"  # a file in DIR itself: routed by its size once validated
OUTCOMES = ("submitted", "rejected", "duplicates", "results")
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")
# A last line cut short this long is not going to be finished: the file is taken as it is.
INCOMPLETE_GRACE_S = 30.0
# Files in work at once (each holds a thread while its calls or upload run).
FILE_WORKERS = 8
# A claim whose step failed for a transient reason is tried again after this (doubling).
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 300.0
PROGRESS_EVERY_S = 0.5
# A request still refused for quota after the gateway waited out every retryDelay is waited
# for again this many times before the rest of its file goes to the Batch API.
QUOTA_ROUNDS = 3
# A concurrent claim's error while the spend budget holds the rest of its file.
HELD_PREFIX = "held: "
_SEPARATORS = re.compile(r"([-_\s]+)")
_UNSAFE = re.compile(r"[^\w.-]+")


def worth_retrying(error: BaseException) -> bool:
    """A claim's step failed in a way that may pass: the API unreachable, overloaded or out of
    quota, the limiter holding calls back, the store busy. Anything else is a finding."""
    return batches.is_transient(error) or isinstance(
        error, CircuitOpen | QuotaExhausted | OperationalError)


class DropFolderBusy(RuntimeError):
    """Another gemops already watches this folder."""


@dataclass(frozen=True)
class DropNotice:
    """Something the watcher did, for a log line or the console's flash."""

    kind: str
    path: str
    detail: str = ""
    # For "held": the spend budget's refusal (budget.OverBudget), so a console can ask.
    over: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.kind:<10} {self.path}" + (f"  {self.detail}" if self.detail else "")


@dataclass
class _Candidate:
    size: int = -1
    mtime_ns: int = -1
    incomplete_since: float | None = None
    told: bool = False


@dataclass
class _Retry:
    at: float
    failures: int  # before this one: the first retry waits RETRY_FIRST_S


def mask_stem(stem: str) -> str:
    """A file name's stem with any PII in it masked, still fit for a file name: the store and
    the outcome folders never see `alice@example.com-orders`, only `EMAIL_REDACTED-orders`."""
    masked = redact(stem)
    if masked == stem:  # separators glue an address to its neighbours: try each piece too
        masked = "".join(redact(piece) for piece in _SEPARATORS.split(stem))
    if masked == stem:
        return stem
    return _UNSAFE.sub("_", masked.replace("[", "").replace("]", "")).strip("_.") or "file"


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _last_line(path: Path) -> bytes:
    """The file's last line (with its newline, if it has one), read from the end."""
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        chunk = 64 * 1024
        tail = b""
        position = end
        while position > 0:
            position = max(0, position - chunk)
            handle.seek(position)
            tail = handle.read(min(chunk, end - position)) + tail
            body = tail[:-1] if tail.endswith(b"\n") else tail
            cut = body.rfind(b"\n")
            if cut >= 0:
                return tail[cut + 1:]
        return tail


def is_complete(path: Path) -> bool:
    """A writer that stopped mid-line has not finished: the last line must end in a newline
    or parse as JSON on its own (a file whose last line has no newline)."""
    last = _last_line(path)
    if not last.strip() or last.endswith(b"\n"):
        return True
    try:
        orjson.loads(last)
    except orjson.JSONDecodeError:
        return False
    return True


class DropFolder:
    """One watched folder. `run()` is the loop; `process(path)` handles one settled file."""

    def __init__(
        self, ws: Workspace, root: Path, *, notify: Callable[[DropNotice], None] | None = None
    ) -> None:
        self.ws = ws
        self.root = root.expanduser().resolve()
        self.settings = ws.settings.drop
        self._notify = notify or (lambda notice: None)
        self._active: set[str] = set()
        self._active_lock = threading.Lock()
        self._retry: dict[int, _Retry] = {}
        self._candidates: dict[Path, _Candidate] = {}
        # Inbox paths being processed: a sweep or an event must not queue them again.
        self._busy: set[Path] = set()
        self._status_written: dict[int, bytes] = {}
        self._status_lock = threading.Lock()
        self._waiting = 0
        # The one sync service, writing results after each good tick (as the console does).
        self._sync = SyncLoop(ws, collect=True)
        self._pool = concurrent.futures.ThreadPoolExecutor(FILE_WORKERS, "gemops-drop")
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_handle: Any = None
        self._call_slots: asyncio.Semaphore | None = None
        self._input_limits: jsonl.InputLimits | None = None
        # Leases (shared stores only): who we are, and the claims we work on right now.
        self.owner = process_owner()
        self._held: set[int] = set()
        self._held_lock = threading.Lock()

    # -- layout --------------------------------------------------------------------------------

    def ensure_layout(self) -> None:
        for name in (*ROUTES, *OUTCOMES, ".gemops"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def route_of(self, path: Path) -> str | None:
        """AUTO for DIR/*.jsonl, the route for DIR/<route>/*.jsonl, None for anything else."""
        if path.parent == self.root:
            return AUTO
        if path.parent.parent == self.root and path.parent.name in ROUTES:
            return path.parent.name
        return None

    def wanted(self, path: Path) -> bool:
        name = path.name
        return (
            name.endswith(".jsonl")
            and not name.startswith(".")
            and not name.endswith(IGNORED_SUFFIXES)
            and self.route_of(path) is not None
        )

    def relative(self, path: Path | str) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def results_path(self, drop: DropFile) -> Path:
        return self.root / "results" / f"{drop.name}.jsonl"

    def _say(self, kind: str, path: Path | str, detail: str = "", *, over: Any = None) -> None:
        self._notify(DropNotice(kind, self.relative(path), detail, over))

    # -- the folder lock -------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the folder for this process (the kernel frees it if the process dies). On a
        shared store the folder is not taken: claims and their leases share it out."""
        self.ensure_layout()
        if self.shared:
            return
        handle = (self.root / ".gemops" / "watch.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise DropFolderBusy(
                f"{self.root} is already watched by another gemops (pid {owner})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_handle = handle

    def release(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- leases (shared store) -------------------------------------------------------------------

    @functools.cached_property
    def shared(self) -> bool:
        """Whether the store is a server database other hosts' watchers may share."""
        return self.ws.store.engine.dialect.name != "sqlite"

    def _take(self, drop: DropFile) -> bool:
        """Lease the claim to this watcher while it works on it (always ours on SQLite)."""
        if not self.shared:
            return True
        now = self.ws.clock()
        until = now + self.settings.lease_s
        with self.ws.session() as session:
            taken = drops.take(session, drop.id, owner=self.owner, now=now, until=until)
            if not taken:
                # A watcher on this host that died need not be waited out.
                holder = drops.get(session, drop.id)
                if holder is not None and holder.owner and not owner_alive(holder.owner):
                    taken = drops.take(session, drop.id, owner=self.owner, now=now,
                                       until=until, stale=holder.owner)
        if taken:
            with self._held_lock:
                self._held.add(drop.id)
        return taken

    def _let_go(self, drop: DropFile) -> None:
        if not self.shared:
            return
        with self._held_lock:
            self._held.discard(drop.id)
        with self.ws.session() as session:
            drops.let_go(session, drop.id, owner=self.owner)

    def _worked(self, drop: DropFile) -> DropFile | None:
        """Carry a claim on under its lease; None when another live watcher holds it."""
        if not self._take(drop):
            return None
        try:
            return self._advance(self._reload(drop) if self.shared else drop)
        finally:
            self._let_go(drop)

    def heartbeat(self) -> int:
        """Renew the leases of the claims in work here; returns how many are still held."""
        with self._held_lock:
            held = list(self._held)
        if not held:
            return 0
        with self.ws.session() as session:
            return drops.renew(session, held, owner=self.owner,
                               until=self.ws.clock() + self.settings.lease_s)

    # -- one file ----------------------------------------------------------------------------

    def _unique_name(self, stem: str, content_hash: str) -> str:
        """A name no other claim or outcome file in this folder uses (outcomes are named by it)."""
        for name in (stem, f"{stem}-{content_hash[:8]}"):
            taken = any(
                (self.root / folder / f"{name}.jsonl").exists()
                for folder in ("submitted", "rejected", "results")
            )
            if not taken:
                with self.ws.session() as session:
                    taken = drops.name_taken(session, name, under=str(self.root))
            if not taken:
                return name
        return f"{stem}-{content_hash[:16]}"

    def _begin(self, key: str) -> bool:
        with self._active_lock:
            if key in self._active:
                return False
            self._active.add(key)
            return True

    def _end(self, key: str) -> None:
        with self._active_lock:
            self._active.discard(key)

    def process(self, path: Path) -> DropFile | None:
        """Claim a settled file and take it as far as it goes now (blocking; run in a thread).
        Returns its claim, or None when it was a duplicate or vanished."""
        route = self.route_of(path)
        if route is None:
            return None
        self._busy.add(path)
        try:
            return self._process(path, route)
        finally:
            self._busy.discard(path)

    def _process(self, path: Path, route: str) -> DropFile | None:
        try:
            content_hash = jsonl.content_hash(path)
        except FileNotFoundError:
            return None
        if not self._begin(content_hash):
            return None
        try:
            masked = self._mask_name(path, content_hash)
            if masked is None:
                return None
            path = masked
            now = self.ws.clock()
            with self.ws.session() as session:
                existing = drops.by_hash(session, content_hash)
            if existing is not None and existing.path == str(path):
                if self.backing_off(existing.id):
                    return None
                # Ours, left half-way by a previous run (or, on a shared store, another
                # watcher's: carried on only if its lease ran out).
                return self._worked(existing)
            if existing is None or existing.step in (REJECTED, FAILED):
                name = self._unique_name(path.stem, content_hash)
                lease = (self.owner, now + self.settings.lease_s) if self.shared else (None, 0.0)
                with self.ws.session() as session:
                    if existing is None:
                        drop, made = drops.claim(
                            session, content_hash=content_hash, name=name, path=str(path),
                            route=route, step=CLAIMED, now=now, owner=lease[0],
                            lease_until=lease[1])
                    else:
                        again = drops.reclaim(session, existing.id, name=name, path=str(path),
                                              route=route, step=CLAIMED, now=now,
                                              owner=lease[0], lease_until=lease[1],
                                              was=existing.step)
                        made = again is not None
                        drop = again or drops.get(session, existing.id) or existing
                    if made:
                        drops.add_event(session, at=now, kind=CLAIMED, path=str(path),
                                        detail=content_hash[:16], drop_file_id=drop.id)
                if made:
                    self._say(CLAIMED, path, f"sha256 {content_hash[:12]}")
                    checkpoint(CLAIMED)
                    return self._worked(drop)
                existing = drop  # another process claimed it between our read and insert
                if existing.path == str(path):
                    # This very file, claimed by another watcher of the folder: its to send.
                    return self._worked(existing)
            if existing.step in IN_PROGRESS and not Path(existing.path).exists():
                # Renamed by hand while we held it: follow the file.
                if not self._take(existing):
                    return None
                try:
                    with self.ws.session() as session:
                        moved = drops.advance(session, existing.id, now=now, path=str(path))
                    return self._advance(moved)
                finally:
                    self._let_go(existing)
            self._duplicate(path, existing)
            return None
        finally:
            self._end(content_hash)

    def _mask_name(self, path: Path, content_hash: str) -> Path | None:
        """Rename an inbox file whose name carries PII (say, a customer's e-mail address) to
        its masked name before anything about it is recorded; None if it vanished."""
        masked = mask_stem(path.stem)
        if masked == path.stem:
            return path
        target = path.with_name(f"{masked}-{content_hash[:8]}{path.suffix}")
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        self._say("renamed", target, "its name carried personal data")
        return target

    def resume(self, drop: DropFile) -> DropFile | None:
        """Carry on with a claim found in the store (after a restart, or a transient error)."""
        if not self._begin(drop.content_hash):
            return None
        try:
            # Read again under the claim's guard: the record in hand may be older than the
            # work another thread just finished on the same file.
            current = self._reload(drop)
            if current.step not in IN_PROGRESS:
                return current
            return self._worked(current)
        finally:
            self._end(drop.content_hash)

    def _locate(self, drop: DropFile) -> Path | None:
        """Where the claimed file is now: its recorded path, or the outcome folder a move
        interrupted by a crash had already put it in."""
        path = Path(drop.path)
        if path.is_file():
            return path
        for folder in ("submitted", "rejected"):
            candidate = self.root / folder / f"{drop.name}.jsonl"
            if candidate.is_file():
                with self.ws.session() as session:
                    drops.advance(session, drop.id, now=self.ws.clock(), path=str(candidate))
                return candidate
        return None

    def _advance(self, drop: DropFile) -> DropFile:
        """Move a claim on from its recorded step until it waits on the API (or is done)."""
        path = self._locate(drop)
        if path is None:
            if drop.step in IN_PROGRESS:
                drop = record_step(self.ws, drop, FAILED, detail="file vanished",
                                   error="the file disappeared before it was sent",
                                   finished_at=self.ws.clock())
                self._say(FAILED, drop.path, "the file disappeared before it was sent")
            return drop
        if str(path) != drop.path:
            drop = self._reload(drop)
        report: jsonl.Validation | None = None
        if drop.step == CLAIMED:
            report = self._validate(path)
            drop, report = self._validated(drop, path, report)
        if drop.step == VALIDATED and path.parent.name != "submitted":
            # Spend budget (issue 15): over it, the file waits in held/ until a new day or a
            # raised budget; the tick resumes held claims like any other unfinished one.
            held = budget.drop_gate(self, drop, path)
            if held is not None:
                return held
        if drop.step in (VALIDATED, UPLOADED, SUBMITTING):
            # Committed to sending: the file leaves the inbox before anything is sent, so a
            # job never exists while its input is still on the move.
            drop = self._move(drop, "submitted")
            path = Path(drop.path)
        if drop.route == BATCH and drop.step in (VALIDATED, UPLOADED, SUBMITTING):
            drop = self._submit_batch(drop, path, report)
        if drop.route in CONCURRENT and drop.step in (VALIDATED, RUNNING):
            drop = self._run_concurrent(drop, path)
            if drop.route == BATCH:  # the circuit opened: the rest goes to the Batch API
                return self._advance(drop)
        if drop.step in (SUBMITTED, DONE):
            drop = self._move(drop, "submitted")
        elif drop.step in (REJECTED, FAILED):
            drop = self._move(drop, "rejected")
        self.write_status(drop)
        return drop

    def _reload(self, drop: DropFile) -> DropFile:
        with self.ws.session() as session:
            return drops.get(session, drop.id) or drop

    def _limits(self) -> jsonl.InputLimits:
        # From the price table, not the gateway: validating sends nothing, so needs no connection.
        if self._input_limits is None:
            prices = PriceTable.load(self.ws.settings.prices.file)
            self._input_limits = jsonl.InputLimits(
                self.ws.settings.gemini.default_model,
                {name: model.input_token_limit for name, model in prices.models.items()})
        return self._input_limits

    def _validate(self, path: Path) -> jsonl.Validation:
        """Validate line by line; a line whose estimate is near its model's input limit is
        settled by countTokens (free), so nothing over the limit is ever sent and billed."""
        display = self.relative(path)
        limits = self._limits()
        report = jsonl.validate(path, display=display, limits=limits)
        if not report.near_limit:
            return report
        near = {line: model for line, model, _ in report.near_limit}
        for request in jsonl.requests(path, display=display):
            model = near.get(request.line)
            if model is None:
                continue
            contents, _ = jsonl.sdk_call(request.request)
            tokens = self.ws.gateway.run(self.ws.gateway.count_tokens(model, contents))
            limit = limits.of(model)[1]
            if tokens > limit:
                report.add(jsonl.over_limit(display, request.line, model, tokens, limit,
                                            estimated=False))
                report.bad_lines += 1
                report.requests -= 1
        report.errors.sort(key=lambda e: e.line)
        return report

    def _validated(
        self, drop: DropFile, path: Path, report: jsonl.Validation
    ) -> tuple[DropFile, jsonl.Validation]:
        if not report.ok:
            return self._reject(drop, path, report, report.errors), report
        route = drop.route
        if route == AUTO:
            route = CONCURRENT[1] if report.requests < self.settings.batch_threshold else BATCH
        if route == BATCH:
            model = report.model_for(self.ws.settings.gemini.default_model)
            conflicts = batches.model_conflicts(path, model, display=self.relative(path))
            if conflicts:
                return self._reject(drop, path, report, conflicts), report
        drop = record_step(self.ws, drop, VALIDATED, detail=f"{report.requests} requests → {route}",
                           route=route, request_count=report.requests)
        self._say(VALIDATED, path, f"{report.requests} requests, route {route}")
        return drop, report

    def _reject(self, drop: DropFile, path: Path, report: jsonl.Validation,
                errors: list[jsonl.LineError]) -> DropFile:
        """Move an invalid file to rejected/ with an errors file listing every bad line."""
        target = self.root / "rejected" / f"{drop.name}.jsonl"
        errors_file = target.with_name(f"{drop.name}.errors.txt")
        tmp = errors_file.with_name(errors_file.name + ".part")
        bad = report.bad_lines or len({e.line for e in errors})
        with tmp.open("w", encoding="utf-8") as out:
            out.write(f"rejected: {self.relative(path)}: {plural(bad, 'bad line')}, "
                      f"{report.requests} good; nothing was sent.\n"
                      "Fix every line below and drop the file again.\n\n")
            if errors is report.errors and report.error_count > len(report.errors):
                # More than a report keeps in memory: stream them all from a second pass.
                jsonl.validate(path, display=self.relative(path), limits=self._limits(),
                               sink=lambda error: print(error, file=out))
            else:
                out.writelines(f"{error}\n" for error in errors)
        tmp.replace(errors_file)
        summary = f"{plural(bad, 'bad line')}; see rejected/{errors_file.name}"
        drop = record_step(self.ws, drop, REJECTED, detail=summary, error=summary,
                           request_count=report.requests, finished_at=self.ws.clock())
        self._say(REJECTED, path, summary)
        return drop

    def _duplicate(self, path: Path, original: DropFile) -> None:
        """The same content again: report it and park the file, never send it twice."""
        folder = self.root / "duplicates"
        target = folder / path.name
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{path.stem}-{n}{path.suffix}"
        try:
            path.rename(target)
        except FileNotFoundError:
            return
        now = self.ws.clock()
        detail = f"same content as {self.relative(original.path)}"
        if original.batch_name:
            detail += f" ({original.batch_name})"
        with self.ws.session() as session:
            drops.add_event(session, at=now, kind="duplicate", path=str(target), detail=detail,
                            drop_file_id=original.id)
        self._write_json(target.with_name(f"{target.stem}.status.json"), {
            "file": self.relative(target), "step": "duplicate",
            "duplicate_of": self.relative(original.path), "batch": original.batch_name,
            "original_step": original.step, "claimed_at": _iso(original.claimed_at),
            "seen_at": _iso(now),
        })
        self._say("duplicate", target, detail)

    def _move(self, drop: DropFile, folder: str) -> DropFile:
        path = Path(drop.path)
        target = self.root / folder / f"{drop.name}.jsonl"
        if path == target or not path.is_file():
            return drop
        path.rename(target)
        with self.ws.session() as session:
            return drops.advance(session, drop.id, now=self.ws.clock(), path=str(target))

    # -- routes -------------------------------------------------------------------------------

    def _submit_batch(
        self, drop: DropFile, path: Path, report: jsonl.Validation | None
    ) -> DropFile:
        if report is None:  # resumed: the validation is derived again (deterministic)
            report = jsonl.validate(path, display=self.relative(path), limits=self._limits())
        results_path = self.results_path(drop)
        skip = frozenset(batches.read_journal(results_path))  # answered before a fallback
        submission = batches.prepare(
            self.ws, path, report, drop, results_path=results_path,
            display=self.relative(path), skip_keys=skip)
        last_told = [0.0]

        def progress(sent: int, total: int) -> None:
            now = time.monotonic()
            if sent == total or now - last_told[0] >= PROGRESS_EVERY_S:
                last_told[0] = now
                self._say("uploading", path, f"{sent * 100 // max(total, 1)}% of {total:,} bytes")

        before = drop.step
        drop = batches.push_batch(self.ws, drop, submission, progress=progress)
        if before == VALIDATED and drop.step in (UPLOADED, SUBMITTING, SUBMITTED):
            self._say(UPLOADED, path, drop.remote_file or "inline")
        if drop.step == SUBMITTED:
            self._say(SUBMITTED, path, f"{drop.batch_name} ({submission.request_count} requests, "
                      f"{submission.model})")
            self.poke()  # a job is out: the poll loop moves to its fast cadence now
        elif drop.step == FAILED:
            self._say(FAILED, path, drop.error or "")
            self._api_refused(drop, path)
        return drop

    def _api_refused(self, drop: DropFile, path: Path) -> None:
        errors_file = self.root / "rejected" / f"{drop.name}.errors.txt"
        errors_file.write_text(
            f"rejected: {self.relative(path)}: the API refused the batch; nothing was created.\n"
            f"\n{drop.error}\n", encoding="utf-8")

    def _breaker_open(self, model: str, tier: str) -> bool:
        return self.ws.gateway.limiter.bucket(model, tier).breaker.state == "open"

    def _run_concurrent(self, drop: DropFile, path: Path) -> DropFile:
        """Send each request through the gateway on the file's tier, bounded; answers go to a
        journal as they arrive, so a restart asks only what is still unanswered."""
        tier = drop.route
        if drop.step == VALIDATED:
            drop = self._move(drop, "submitted")
            path = Path(drop.path)
            drop = record_step(self.ws, drop, RUNNING, detail=f"{drop.request_count} calls on {tier}")
            self._say(RUNNING, path, f"{drop.request_count} calls on {tier}")
        results_path = self.results_path(drop)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        answered = batches.read_journal(results_path)
        default_model = self.ws.settings.gemini.default_model
        display = self.relative(path)
        pending = (r for r in jsonl.requests(path, display=display) if r.key not in answered)
        was_held = (drop.error or "").startswith(HELD_PREFIX)
        fallback = self.ws.gateway.run(self._fan_out(drop, pending, tier, results_path,
                                                     default_model, len(answered)))
        answered = batches.read_journal(results_path)
        if isinstance(fallback, budget.OverBudget):
            return self._hold_rest(drop, path, fallback, len(answered), told=was_held)
        if was_held:
            with self.ws.session() as session:
                drop = drops.advance(session, drop.id, now=self.ws.clock(), error=None)
            self._say("released", path, "within budget now")
        if fallback is not None:
            left = drop.request_count - len(answered)
            drop = record_step(self.ws, drop, VALIDATED, route=BATCH,
                               detail=f"{fallback}: {plural(left, 'request')} to the Batch API")
            self._say("fallback", path, f"{fallback}; {plural(left, 'request')} to the Batch API")
            return drop
        ok = self._write_local_results(path, display, results_path, answered)
        now = self.ws.clock()
        drop = record_step(self.ws, drop, DONE, detail=f"{ok} ok, {len(answered) - ok} failed",
                           done_requests=len(answered), finished_at=now)
        with self.ws.session() as session:
            drops.add_event(session, at=now, kind="results", path=str(results_path),
                            detail=f"{ok} ok, {len(answered) - ok} failed", drop_file_id=drop.id)
        batches.journal_path(results_path).unlink(missing_ok=True)
        self._say("results", results_path, f"{ok} ok, {len(answered) - ok} failed")
        return drop

    def _hold_rest(self, drop: DropFile, path: Path, over: budget.OverBudget, answered: int,
                   *, told: bool) -> DropFile:
        """The spend budget refused a request part-way: the rest waits. The claim stays
        `running` (so each tick tries again: the gateway refuses before anything is sent, until
        a new day or a raised budget), its answers stay in the journal, its status says held."""
        reason = over.check.reason
        now = self.ws.clock()
        with self.ws.session() as session:
            drop = drops.advance(session, drop.id, now=now, error=HELD_PREFIX + reason,
                                 done_requests=answered)
            if not told:
                drops.add_event(session, at=now, kind=budget.HELD, path=str(path),
                                detail=reason, drop_file_id=drop.id)
        if not told:
            left = drop.request_count - answered
            self._say(budget.HELD, path, f"{plural(left, 'request')} left: {reason}", over=over)
        return drop

    async def _fan_out(self, drop: DropFile, pending: Iterator[jsonl.BatchRequest], tier: str,
                       results_path: Path, default_model: str, done: int,
                       ) -> str | budget.OverBudget | None:
        """Runs on the gateway's loop. Returns why the rest must go to batch, the spend
        budget's refusal when the rest must wait, or None."""
        gateway = self.ws.gateway
        images_dir = results_path.with_suffix("")
        stop: list[str] = []
        refused: list[budget.OverBudget] = []
        count = [done]
        last_saved = [time.monotonic()]

        def write_progress(done: int) -> None:
            with self.ws.session() as session:
                drops.advance(session, drop.id, now=self.ws.clock(), done_requests=done)

        async def save_progress(final: bool = False) -> None:
            now = time.monotonic()
            if final or now - last_saved[0] >= PROGRESS_EVERY_S:
                last_saved[0] = now
                await asyncio.to_thread(write_progress, count[0])

        # One bound for the whole watcher, not per file: at most drop.concurrency requests are
        # ever in flight, which is all a kill -9 can leave unanswered and send again.
        if self._call_slots is None:
            self._call_slots = asyncio.Semaphore(max(1, self.settings.concurrency))
        slots = self._call_slots

        async def answer(request: jsonl.BatchRequest, model: str) -> dict[str, Any] | None:
            """The request's result entry, or None when the rest of the file must go to batch."""
            contents, config = jsonl.sdk_call(request.request)
            quota_rounds = 0
            while True:
                if self._breaker_open(model, tier):
                    stop.append(f"circuit open for {model} on {tier}")
                    return None
                try:
                    async with slots:
                        generation = await gateway.generate(
                            model, contents, config, tier=tier, source="drop",
                            request_key=batches.ledger_request_key(drop.name, request.key))
                except (CircuitOpen, QuotaExhausted) as error:
                    stop.append(str(error))
                    return None
                except budget.OverBudget as error:  # refused before it was sent: hold the rest
                    refused.append(error)
                    stop.append(str(error))
                    return None
                except GatewayError as error:
                    if error.status != 429:
                        return batches.error_entry(request.key, code=error.status,
                                                   message=error.message, model=model, tier=tier)
                    # A 429 asks us to wait, and the gateway did; wait again before giving
                    # up on the tier, as long as the breaker stays closed.
                    quota_rounds += 1
                    if quota_rounds >= QUOTA_ROUNDS:
                        stop.append(f"quota errors for {model} on {tier} after waiting")
                        return None
                    await gateway.sleep(error.retry_delay_s or 1.0)
                    continue
                except (ValueError, TypeError) as error:  # the SDK refused this request's shape
                    return batches.error_entry(request.key, code=None, model=model, tier=tier,
                                               message=f"{type(error).__name__}: {error}")
                images = batches.save_images(images_dir, request.key, generation.images)
                return batches.ok_entry(
                    request.key, model=model, tier=generation.tier_served, text=generation.text,
                    usage=generation.usage, cost=generation.cost,
                    finish_reason=generation.finish_reason, images=images)

        with batches.journal_path(results_path).open("ab") as journal:

            async def worker() -> None:
                while not stop:
                    request = next(pending, None)
                    if request is None:
                        return
                    model = (request.model or default_model).removeprefix("models/")
                    entry = await answer(request, model)
                    if entry is None:
                        return
                    # The ledger row is already booked; the answer is journaled before the next
                    # request is taken, so a restart sends only what has no line here.
                    journal.write(orjson.dumps(entry) + b"\n")
                    journal.flush()
                    count[0] += 1
                    await save_progress()

            await asyncio.gather(*(worker() for _ in range(max(1, self.settings.concurrency))))
        await save_progress(final=True)
        if refused:
            return refused[0]
        return stop[0] if stop else None

    def _write_local_results(self, path: Path, display: str, results_path: Path,
                             answered: dict[str, bytes]) -> int:
        ok = 0
        tmp = results_path.with_name(results_path.name + ".part")
        with tmp.open("wb") as out:
            for request in jsonl.requests(path, display=display):
                line = answered.get(request.key)
                if line is None:
                    line = orjson.dumps(batches.error_entry(request.key, code=None,
                                                            message="no answer was recorded"))
                ok += b'"status":"ok"' in line
                out.write(line + b"\n")
        tmp.replace(results_path)
        return ok

    # -- status files -------------------------------------------------------------------------

    def _write_json(self, path: Path, value: dict[str, Any]) -> bytes:
        data = orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return data

    def write_status(self, drop: DropFile) -> None:
        """`<name>.status.json` beside the file once it has left the inbox: where it is.
        Several threads write these: each reads the claim afresh under one lock, so the last
        file written is never an older state than the store's."""
        with self._status_lock:
            with self.ws.session() as session:
                drop = drops.get(session, drop.id) or drop
                job = batch_repo.get(session, drop.batch_name) if drop.batch_name else None
            self._write_status(drop, job)

    def _write_status(self, drop: DropFile, job: Any) -> None:
        path = Path(drop.path)
        if path.parent.name not in ("submitted", "rejected") or path.parent.parent != self.root:
            return
        results = self.results_path(drop)
        status: dict[str, Any] = {
            "file": self.relative(path),
            "name": drop.name,
            "content_hash": drop.content_hash,
            "route": drop.route,
            "step": drop.step,
            "requests": drop.request_count,
            "done_requests": drop.done_requests,
            "remote_file": drop.remote_file,
            "batch": drop.batch_name,
        }
        if job is not None:
            status |= {
                "state": job.state.removeprefix("JOB_STATE_"),
                "succeeded": job.succeeded_count,
                "failed": job.failed_count,
                "pending": job.pending_count,
            }
        held = drop.error or ""
        if drop.step == RUNNING and held.startswith(HELD_PREFIX):
            # Over the spend budget part-way: the rest waits (see _hold_rest).
            status |= {"step": budget.HELD, "why": held.removeprefix(HELD_PREFIX)}
        status |= {
            "results": self.relative(results) if results.exists() else None,
            "errors": (f"rejected/{drop.name}.errors.txt" if drop.step in (REJECTED, FAILED)
                       else None),
            "error": drop.error,
            "claimed_at": _iso(drop.claimed_at),
            "updated_at": _iso(drop.updated_at),
            "finished_at": _iso(drop.finished_at),
        }
        key = orjson.dumps({k: v for k, v in status.items() if k != "updated_at"})
        if self._status_written.get(drop.id) == key:
            return
        self._write_json(path.with_name(f"{drop.name}.status.json"), status)
        self._status_written[drop.id] = key

    # -- the loop -----------------------------------------------------------------------------

    def unfinished(self) -> list[DropFile]:
        with self.ws.session() as session:
            return drops.with_steps(session, IN_PROGRESS, under=str(self.root))

    def backing_off(self, drop_id: int) -> bool:
        retry = self._retry.get(drop_id)
        return retry is not None and retry.at > time.monotonic()

    def interval(self) -> float:
        """The poll cadence: fast while jobs from this folder are out, backing off on errors."""
        return next_interval(self.ws.settings.sync, self._sync.last, busy=bool(self._waiting))

    def tick(self) -> list[batches.ResultsWritten]:
        """Take up claims left half-way; while batches are out, sync and write results; bring
        the status files of files in flight up to date."""
        for drop in self.unfinished():
            if self.shared and drop.owner not in (None, self.owner) \
                    and drop.lease_until > self.ws.clock():
                continue  # another watcher works on it
            if not self.backing_off(drop.id):
                self._pool.submit(self._guarded, self.resume, drop, drop.id, drop.path)
        with self.ws.session() as session:
            waiting = drops.with_steps(session, (SUBMITTED,), under=str(self.root))
        self._waiting = len(waiting)
        written: list[batches.ResultsWritten] = []
        if waiting:
            result = self._sync.tick()
            if result is not None and result.error:
                self._say("sync", self.root, f"failed: {result.error}")
            elif result is not None:
                written = list(result.written)
                if result.collect_error:
                    self._say("error", self.root, f"writing results: {result.collect_error}")
        self._report(written)
        return written

    def job_changed(self, name: str) -> None:
        """A webhook said job `name` changed: sync it now, and write its results if it ended."""
        batches.refresh_job(self.ws, name, collect=False)
        self._report(batches.collect_finished(self.ws, names=[name]))

    def _report(self, written: list[batches.ResultsWritten]) -> None:
        """Say which results were written, and bring the files in flight's status up to date."""
        for item in written:
            if item.drop_file_id is not None:
                self._say("results", item.path, f"{item.ok} ok, {item.failed} failed "
                          f"({item.state.removeprefix('JOB_STATE_').lower()})")
        finished = [w.drop_file_id for w in written if w.drop_file_id is not None]
        with self.ws.session() as session:
            touched = drops.with_steps(session, (SUBMITTED, RUNNING), under=str(self.root))
            touched += [d for d in (drops.get(session, i) for i in finished) if d]
        for drop in touched:
            self.write_status(drop)

    def _guarded(self, action: Callable[..., Any], arg: Any, retry_key: int | None,
                 path: str | Path) -> Any:
        """Run one file's step. A transient failure of a claim (network, overload, quota, a
        busy store) is retried later with back-off; any other failure of a claim would fail the
        same way on every retry, so the claim is recorded as failed and the file rejected with
        the reason. A new file's failure is reported and the file left where it is."""
        try:
            result = action(arg)
        except Exception as error:  # a failing file must never stop the watcher
            if retry_key is not None and worth_retrying(error):
                previous = self._retry.get(retry_key)
                failures = previous.failures + 1 if previous else 0
                delay = backoff(RETRY_FIRST_S, failures, cap_s=RETRY_MAX_S)
                self._retry[retry_key] = _Retry(time.monotonic() + delay, failures)
                self._say("error", path, f"{error} (trying again in {delay:.0f}s)")
            elif retry_key is not None:
                self._retry.pop(retry_key, None)
                self._give_up(arg, error)
            else:
                self._say("error", path, f"{type(error).__name__}: {error}")
            return None
        if retry_key is not None:
            self._retry.pop(retry_key, None)
        return result

    def _give_up(self, drop: DropFile, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        try:
            failed = record_step(self.ws, self._reload(drop), FAILED, detail="not retried",
                                 error=reason, finished_at=self.ws.clock())
            self._say(FAILED, drop.path, f"{reason} (not a transient error: not retried)")
            self.write_status(self._move(failed, "rejected"))
        except Exception as again:  # the store or the disk refuses too: say so, keep watching
            self._say("error", drop.path, f"{reason}; recording the failure failed: {again}")

    def candidate(self, path: Path) -> None:
        """A file appeared or changed: watch it until it is complete."""
        if self.wanted(path) and path not in self._busy:
            self._candidates.setdefault(path, _Candidate())

    def settled(self) -> list[Path]:
        """Candidates that are complete now (still for `settle_ms`, last line whole)."""
        ready = []
        settle = self.settings.settle_ms / 1000
        now = time.time()
        for path, seen in list(self._candidates.items()):
            try:
                stat = path.stat()
            except FileNotFoundError:
                del self._candidates[path]
                continue
            changed = (stat.st_size, stat.st_mtime_ns) != (seen.size, seen.mtime_ns)
            seen.size, seen.mtime_ns = stat.st_size, stat.st_mtime_ns
            if now - stat.st_mtime_ns / 1e9 < settle or (changed and seen.incomplete_since):
                seen.incomplete_since = None
                continue
            try:
                whole = not stat.st_size or is_complete(path)
            except FileNotFoundError:  # moved away between the two looks
                del self._candidates[path]
                continue
            if not whole:
                seen.incomplete_since = seen.incomplete_since or now
                if now - seen.incomplete_since < INCOMPLETE_GRACE_S:
                    if not seen.told:
                        seen.told = True
                        self._say("waiting", path, "its last line is cut short; still being written?")
                    continue
            del self._candidates[path]
            ready.append(path)
        return ready

    def sweep(self) -> None:
        """Files already in the inboxes (dropped while nobody watched)."""
        for folder in (self.root, *(self.root / r for r in ROUTES)):
            for path in sorted(folder.glob("*.jsonl")):
                self.candidate(path)

    def poke(self) -> None:
        """Sync now (a webhook said a job changed); callable from any thread."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Watch until `stop` is set (or, with `once`, until what is there now is sent)."""
        from watchfiles import Change, awatch

        self.acquire()
        loop = self._loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        working: set[asyncio.Future] = set()

        def start(path: Path) -> None:
            future = loop.run_in_executor(self._pool, self._guarded, self.process, path, None,
                                          path)
            working.add(future)
            future.add_done_callback(working.discard)

        async def watch() -> None:
            debounce = max(1, self.settings.debounce_ms)
            async for changes in awatch(
                self.root, stop_event=stop, debounce=debounce, step=min(debounce, 20),
                watch_filter=lambda change, name: change != Change.deleted
                and self.wanted(Path(name)),
            ):
                for _, name in changes:
                    self.candidate(Path(name))
                wake_settler.set()

        wake_settler = asyncio.Event()

        async def settle() -> None:
            tick = max(0.01, self.settings.settle_ms / 4000)
            while not stop.is_set():
                try:
                    ready = self.settled()
                except OSError as error:  # the folder itself went away, say: say so, go on
                    self._say("error", self.root, f"{type(error).__name__}: {error}")
                    ready = []
                for path in ready:
                    start(path)
                if self._candidates:
                    await asyncio.sleep(tick)
                else:
                    wake_settler.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake_settler.wait(), 0.5)

        async def poll() -> None:
            while not stop.is_set():
                # Also catches what the watcher cannot see (events lost, network filesystems).
                with contextlib.suppress(OSError):
                    self.sweep()
                wake_settler.set()
                await loop.run_in_executor(self._pool, self._guarded, lambda _: self.tick(),
                                           None, None, self.root)
                wake.clear()
                deadline = time.monotonic() + self.interval()
                while not stop.is_set() and time.monotonic() < deadline and not wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), 0.2)

        async def beat() -> None:
            # Off the file pool: a pool busy with long files must not let their leases lapse.
            every = max(0.05, self.settings.lease_s / 3)
            while not stop.is_set():
                with contextlib.suppress(Exception):  # the next beat tries again
                    await asyncio.to_thread(self.heartbeat)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.to_thread(stop.wait, every), every + 1)

        heart = asyncio.create_task(beat()) if self.shared else None
        try:
            # Connect now, not when the first file lands (its latency is what users feel).
            try:
                await asyncio.to_thread(lambda: self.ws.gateway)
            except Exception as error:  # offline: files are still claimed, sent when back
                self._say("error", self.root, f"not connected: {error}")
            if once:
                self.sweep()
                await self._drain(start, working)
                return
            tasks = [asyncio.create_task(t()) for t in (watch, settle, poll)]
            while not stop.is_set():
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if working:
                await asyncio.gather(*working, return_exceptions=True)
        finally:
            if heart is not None:
                heart.cancel()
            self.release()

    async def _drain(self, start: Callable[[Path], None], working: set[asyncio.Future]) -> None:
        """`--once`: resume what was half-way, send what is complete, write what finished."""
        loop = asyncio.get_running_loop()
        for drop in self.unfinished():
            await loop.run_in_executor(self._pool, self._guarded, self.resume, drop, drop.id,
                                       drop.path)
        deadline = time.monotonic() + INCOMPLETE_GRACE_S
        while self._candidates and time.monotonic() < deadline:
            for path in self.settled():
                start(path)
            await asyncio.sleep(0.05)
        for path in self._candidates:
            self._say("skipped", path, "still being written; it will be sent on the next run")
        if working:
            await asyncio.gather(*working, return_exceptions=True)
        await loop.run_in_executor(self._pool, self._guarded, lambda _: self.tick(), None,
                                   None, self.root)


def watch(ws: Workspace, root: Path, *, stop: threading.Event | None = None, once: bool = False,
          notify: Callable[[DropNotice], None] | None = None) -> DropFolder:
    """Run a drop folder until `stop` is set (blocking): what `gemops watch DIR` does."""
    folder = DropFolder(ws, root, notify=notify)
    asyncio.run(folder.run(stop or threading.Event(), once=once))
    return folder
