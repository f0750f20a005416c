"""Batch jobs: submit (a JSONL file through the Files API, or inline requests) exactly once,
poll, cancel, delete, and write results keyed back beside their input.

A submission is a claim (store/repos/drops.py) that moves through recorded steps:
claimed -> validated -> uploaded -> submitting -> submitted -> done (or rejected / failed).
Each step is written before the next action starts, so a process killed at any point resumes
from where it was and never creates a second job: after `uploaded` the recorded file is
reused; in `submitting` the job is looked up by its display name (which carries the content
hash) before another is created.

Results are written as `results/<name>.jsonl`: one line per input key, in input order, with
the response text, usage and cost, or the error; images are saved as
`results/<name>/<key>-<n>.png`. Results are matched by key, never by position.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import itertools
import os
import re
import secrets
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from console.services import jsonl
from console.services.callbook import owner_alive, process_owner
from console.services.errors import GatewayError
from console.services.pricing import Usage
from console.services.redact import redact
from console.services.remote import RemoteBatch
from console.services.workspace import Workspace
from store.records import BatchJob, DropEvent, DropFile
from store.repos import batches, drops, recreations

# The steps a claim moves through (DropFileRow.step).
CLAIMED = "claimed"
VALIDATED = "validated"
UPLOADED = "uploaded"
SUBMITTING = "submitting"
SUBMITTED = "submitted"
RUNNING = "running"  # concurrent routes: calls in flight
DONE = "done"
REJECTED = "rejected"
FAILED = "failed"
IN_PROGRESS = (CLAIMED, VALIDATED, UPLOADED, SUBMITTING, RUNNING)
# Routes of claims made by `gemops batches submit` (the drop folder's are batch, flex,
# standard and priority).
CLI_FILE = "cli"
CLI_INLINE = "cli-inline"

SUCCEEDED = "JOB_STATE_SUCCEEDED"
PENDING = "JOB_STATE_PENDING"
EXPIRED = "JOB_STATE_EXPIRED"

# The test hook for the exactly-once crash tests: the process SIGKILLs itself right after
# recording the named step (claimed, validated, uploaded, submitting, submitted) or, for
# "created", right after the create call returned but before its name was recorded.
CRASH_ENV = "GEMOPS_TEST_CRASH_AT"
TAG_PREFIX = "gemops:"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_IMAGE_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
UPLOAD_BUFFER = 1 << 20

Progress = Callable[[int, int], None]



def ledger_request_key(scope: str, key: str) -> str:
    """How a request's key is written in the ledger: masked, for a key can be an e-mail address,
    with a short digest of the raw key so two keys that mask alike stay apart."""
    masked = redact(key)
    if masked == key:
        return f"{scope}/{key}"
    return f"{scope}/{masked}#{hashlib.sha256(key.encode()).hexdigest()[:8]}"

def checkpoint(step: str) -> None:
    """Die here, as kill -9 would, when the crash test asks for this step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """A job as the pane and `gemops batches list` show it, flags worked out."""

    job: BatchJob
    in_state_s: float | None
    stuck: bool
    expired: bool
    drop_name: str | None
    # A stuck job recreated: "recreated as …" on the old one, "recreation of …" on the new.
    linked: str | None = None

    @property
    def name(self) -> str:
        return self.job.name


def job_views(ws: Workspace, *, include_gone: bool = False) -> list[JobView]:
    now = ws.clock()
    stuck_after = ws.settings.batches.stuck_after or ws.settings.sync.stuck_pending_s
    with ws.session() as session:
        jobs = batches.listing(session, include_gone=include_gone)
        names = {d.id: d.name for d in drops.recent(session, limit=1000)}
        links = recreations.links(session)
    views = []
    for job in jobs:
        since = job.state_since or job.created_at
        in_state = None if since is None else max(0.0, now - since)
        views.append(JobView(
            job=job,
            in_state_s=in_state,
            stuck=job.state == PENDING and in_state is not None and in_state > stuck_after,
            expired=job.state == EXPIRED,
            drop_name=names.get(job.drop_file_id) if job.drop_file_id else None,
            linked=links.get(job.name),
        ))
    return views


@dataclass(frozen=True)
class DropActivity:
    files: list[DropFile]
    events: list[DropEvent]


def drop_activity(ws: Workspace, *, limit: int = 100) -> DropActivity:
    with ws.session() as session:
        return DropActivity(drops.recent(session, limit=limit),
                            drops.recent_events(session, limit=limit))


# -- actions on jobs -----------------------------------------------------------------------


def refresh_job(ws: Workspace, name: str, *, collect: bool = True) -> BatchJob | None:
    """Sync one job now (a webhook said it changed) and, unless told not to, write its results
    if it finished."""
    remote = ws.gateway.run(ws.gateway.get_batch(name))
    with ws.session() as session:
        batches.mirror_remote(session, [remote.row()], now=ws.clock(), complete=False)
    if collect:
        collect_finished(ws, names=[name])
    with ws.session() as session:
        return batches.get(session, name)


def cancel_job(ws: Workspace, name: str) -> BatchJob | None:
    ws.gateway.run(ws.gateway.cancel_batch(name))
    return refresh_job(ws, name)


def delete_job(ws: Workspace, name: str) -> None:
    """Delete the job remotely; the local row is kept (marked gone) for the ledger's history."""
    ws.gateway.run(ws.gateway.delete_batch(name))
    with ws.session() as session:
        batches.annotate(session, name, gone_at=ws.clock())


# -- submission ----------------------------------------------------------------------------


def display_name(content_hash: str, name: str) -> str:
    """The job's display name carries the content hash: the way back to a job whose create
    was sent but whose name was never recorded."""
    return f"{name[:80]} {TAG_PREFIX}{content_hash[:20]}"


def find_by_display_name(ws: Workspace, content_hash: str) -> RemoteBatch | None:
    tag = f"{TAG_PREFIX}{content_hash[:20]}"
    for remote in ws.gateway.run(ws.gateway.list_batches()):
        if remote.display_name.endswith(tag):
            return remote
    return None


def is_transient(error: BaseException) -> bool:
    """Worth retrying later (network, overload, quota) rather than failing the file."""
    if isinstance(error, GatewayError):
        return error.status is None or error.status in (408, 429) or error.status >= 500
    return isinstance(error, OSError | TimeoutError)


class _ProgressReader(io.BufferedReader):
    """A file that reports how far the SDK has read it (the upload's progress)."""

    def __init__(self, path: Path, progress: Progress) -> None:
        super().__init__(io.FileIO(path, "rb"), buffer_size=UPLOAD_BUFFER)
        self._progress = progress
        self._total = path.stat().st_size
        self._sent = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if chunk:
            self._sent += len(chunk)
            self._progress(min(self._sent, self._total), self._total)
        return chunk


def upload_jsonl(
    ws: Workspace, path: Path, *, display: str, progress: Progress | None = None
) -> str:
    """Upload through the Files API (resumable, in chunks); returns the file's name."""
    opened: list[_ProgressReader] = []

    def open_stream() -> _ProgressReader:
        reader = _ProgressReader(path, progress or (lambda sent, total: None))
        opened.append(reader)
        return reader

    try:
        uploaded = ws.gateway.run(ws.gateway.upload_stream(
            open_stream, mime_type="application/jsonl", display_name=display[:128]))
    finally:
        for reader in opened:
            reader.close()
    return uploaded.name


@dataclass(frozen=True)
class Submission:
    """What a batch submission needs besides its claim; derived again on resume."""

    model: str
    request_count: int
    results_path: Path
    # The JSONL to upload (the input itself, or its normal form); None submits inline.
    upload_path: Path | None
    inline_requests: tuple[jsonl.BatchRequest, ...] = ()


def record_step(ws: Workspace, drop: DropFile, step: str, *, detail: str = "",
                **values: Any) -> DropFile:
    """Write a claim's new step (and an event saying so) before anything else happens."""
    now = ws.clock()
    with ws.session() as session:
        updated = drops.advance(session, drop.id, now=now, step=step, **values)
        drops.add_event(session, at=now, kind=step, path=drop.path, detail=detail,
                        drop_file_id=drop.id)
    checkpoint(step)
    return updated


def push_batch(
    ws: Workspace, drop: DropFile, submission: Submission, *, progress: Progress | None = None
) -> DropFile:
    """Advance a validated claim to `submitted`: upload, record, create, record. Resumable
    from any of its steps; transient errors propagate with the step left where it was."""
    gateway = ws.gateway
    name = display_name(drop.content_hash, drop.name)
    if drop.step == VALIDATED:
        if submission.upload_path is None:
            drop = record_step(ws, drop, UPLOADED, detail="inline requests")
        else:
            remote = upload_jsonl(ws, submission.upload_path, display=name, progress=progress)
            drop = record_step(ws, drop, UPLOADED, detail=remote, remote_file=remote)
    if drop.step == SUBMITTING:
        # A create may have been sent before the process died: find it before sending another.
        found = find_by_display_name(ws, drop.content_hash)
        if found is not None:
            return _record_submitted(ws, drop, found.row(), submission)
        drop = record_step(ws, drop, UPLOADED, detail="no job found after a restart; creating")
    if drop.step == UPLOADED:
        drop = record_step(ws, drop, SUBMITTING, detail=name)
        config = {"display_name": name}
        if submission.upload_path is None:
            src: Any = [_inlined(r) for r in submission.inline_requests]
        else:
            src = drop.remote_file
        try:
            job = gateway.run(gateway.create_batch(submission.model, src, config))
        except GatewayError as error:
            if is_transient(error):
                raise
            # The API refused it: nothing was created, so the claim can fail for good.
            return record_step(ws, drop, FAILED, detail=str(error), error=str(error),
                               finished_at=ws.clock())
        checkpoint("created")
        row = job.submitted(request_count=submission.request_count, model=submission.model)
        return _record_submitted(ws, drop, row.row(), submission)
    return drop


def _inlined(request: jsonl.BatchRequest) -> dict[str, Any]:
    contents, config = jsonl.sdk_call(request.request)
    item: dict[str, Any] = {"contents": contents, "metadata": {"key": request.key}}
    if config:
        item["config"] = config
    return item


def _record_submitted(
    ws: Workspace, drop: DropFile, row: dict[str, Any], submission: Submission
) -> DropFile:
    now = ws.clock()
    with ws.session() as session:
        batches.record_created(
            session, row, now=now, drop_file_id=drop.id,
            results_path=str(submission.results_path),
        )
        updated = drops.advance(session, drop.id, now=now, step=SUBMITTED,
                                batch_name=row["name"])
        drops.add_event(session, at=now, kind=SUBMITTED, path=drop.path, detail=row["name"],
                        drop_file_id=drop.id)
    checkpoint(SUBMITTED)
    staging_path(ws, drop.content_hash).unlink(missing_ok=True)  # uploaded: no longer needed
    return updated


@dataclass
class SubmitOutcome:
    """What `submit_file` did: submitted (with the job), a duplicate, or invalid."""

    path: Path
    validation: jsonl.Validation
    drop: DropFile | None = None
    duplicate_of: DropFile | None = None
    errors: list[jsonl.LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.drop is not None and self.drop.step == SUBMITTED


def staging_path(ws: Workspace, content_hash: str) -> Path:
    """Where a file's normal form is written before upload (deterministic: a restart
    writes the same bytes to the same place)."""
    folder = ws.settings.db_path.parent / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{content_hash}.jsonl"


def model_conflicts(path: Path, model: str, *, display: str) -> list[jsonl.LineError]:
    """Lines naming another model than the batch's: a batch job runs one model."""
    return [
        jsonl.LineError(display, r.line, "model", f"{r.model!r} differs from this file's "
                        f"batch model {model!r}; a batch job runs one model: split the file, or "
                        "drop it into flex/, standard/ or priority/ for per-line models")
        for r in jsonl.requests(path, display=display)
        if r.model and r.model.removeprefix("models/") != model
    ]


def prepare(
    ws: Workspace, path: Path, report: jsonl.Validation, drop: DropFile, *, results_path: Path,
    model: str | None = None, inline: bool = False, display: str | None = None,
    skip_keys: frozenset[str] = frozenset(),
) -> Submission:
    """The Submission for a valid file: its model, and the bytes to upload (the input as it
    is when the API can read it, else its normal form)."""
    display = display or path.name
    batch_model = model or report.model_for(ws.settings.gemini.default_model)
    if inline:
        requests = tuple(r for r in jsonl.requests(path, display=display)
                         if r.key not in skip_keys)
        return Submission(batch_model, len(requests), results_path, None, requests)
    upload = path
    count = report.requests - len(skip_keys)
    # Past `validated` the upload is done: only a claim still to upload needs the bytes.
    if (report.needs_rewrite or skip_keys) and drop.step == VALIDATED:
        upload = staging_path(ws, drop.content_hash)
        count, _ = jsonl.write_normal_form(path, upload, skip_keys=skip_keys, display=display)
    return Submission(batch_model, count, results_path, upload)


def submit_file(
    ws: Workspace, path: Path, *, results_dir: Path | None = None, model: str | None = None,
    inline: bool = False, again: bool = False, progress: Progress | None = None,
) -> SubmitOutcome:
    """Validate and submit one JSONL file as a batch job, exactly once per content: the same
    content again is reported as a duplicate (unless `again`)."""
    path = path.resolve()
    report = jsonl.validate(path)
    outcome = SubmitOutcome(path, report, errors=list(report.errors))
    if not report.ok:
        return outcome
    batch_model = model or report.model_for(ws.settings.gemini.default_model)
    conflicts = [] if model else model_conflicts(path, batch_model, display=path.name)
    if conflicts:
        outcome.errors = conflicts
        return outcome
    if inline:
        size = sum(len(r.jsonl()) for r in jsonl.requests(path))
        if size > jsonl.MAX_INLINE_BYTES:
            outcome.errors = [jsonl.LineError(path.name, 0, "file", f"{size:,} bytes of requests "
                              "is over the 20 MB inline limit; submit it as a file")]
            return outcome
    from console.services import budget  # over the spend budget: nothing is claimed or sent

    budget.require(ws, estimate=budget.estimate_file(ws, path, route="batch")[1])
    content_hash = jsonl.content_hash(path)
    results_path = (results_dir or path.parent / "results") / f"{path.stem}.jsonl"
    now = ws.clock()
    attempt = 1
    while True:
        key = content_hash if attempt == 1 else f"{content_hash}#{attempt}"
        with ws.session() as session:
            drop, made = drops.claim(session, content_hash=key, name=path.stem, path=str(path),
                                     route=CLI_INLINE if inline else CLI_FILE, step=CLAIMED,
                                     now=now)
            if not made and drop.step in (REJECTED, FAILED):
                restarted = drops.reclaim(session, drop.id, name=path.stem, path=str(path),
                                          route=drop.route, step=CLAIMED, now=now, was=drop.step)
                if restarted is not None:  # else another process took it back first
                    drop, made = restarted, True
        if made or (drop.step in IN_PROGRESS and drop.path == str(path)):
            break  # ours: new, or left half-way by an earlier run of this command
        if not again or drop.step in IN_PROGRESS:
            outcome.duplicate_of = drop
            return outcome
        attempt += 1
    if drop.step == CLAIMED:
        drop = record_step(ws, drop, VALIDATED, detail=f"{report.requests} requests",
                           request_count=report.requests)
    submission = prepare(ws, path, report, drop, results_path=results_path,
                         model=batch_model, inline=inline)
    outcome.drop = push_batch(ws, drop, submission, progress=progress)
    if outcome.drop.step == FAILED:
        outcome.errors = [jsonl.LineError(path.name, 0, "batch", outcome.drop.error or "failed")]
    return outcome


# -- results ------------------------------------------------------------------------------


def safe_name(key: str) -> str:
    return _UNSAFE.sub("_", key).strip("._") or "request"


def save_images(folder: Path, key: str, images: Iterable[tuple[str, bytes]]) -> list[str]:
    """Write each image as `<folder>/<key>-<n>.<ext>`; returns paths relative to the results
    file's folder (e.g. `name/key-1.png`)."""
    saved = []
    for n, (mime, data) in enumerate(images, start=1):
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{safe_name(key)}-{n}.{_IMAGE_EXT.get(mime, 'png')}"
        target.write_bytes(data)
        saved.append(f"{folder.name}/{target.name}")
    return saved


def usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens, "cached_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens, "thought_tokens": usage.thought_tokens,
        "images": usage.images_out,
    }


def ok_entry(key: str, *, model: str, tier: str, text: str, usage: Usage, cost: float,
             finish_reason: str | None, images: list[str]) -> dict[str, Any]:
    return {
        "key": key, "status": "ok", "model": model, "tier": tier, "text": text,
        "finish_reason": finish_reason, "usage": usage_dict(usage), "cost": round(cost, 8),
        "images": images,
    }


def error_entry(key: str, *, code: int | None, message: str, model: str = "",
                tier: str = "") -> dict[str, Any]:
    return {"key": key, "status": "error", "model": model, "tier": tier,
            "error": {"code": code, "message": message}}


def journal_path(results_path: Path) -> Path:
    """Where a file's answers are kept as they arrive (concurrent routes), beside its results."""
    return results_path.with_name(f".{results_path.stem}.journal.jsonl")


def read_journal(results_path: Path) -> dict[str, bytes]:
    path = journal_path(results_path)
    entries: dict[str, bytes] = {}
    if not path.exists():
        return entries
    with path.open("rb") as handle:
        for raw in handle:
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a line cut short by a crash: that request is asked again
            entries[entry["key"]] = raw.rstrip(b"\n")
    return entries


def _response_parts(response: dict[str, Any]) -> tuple[str, list[tuple[str, bytes]], str | None]:
    texts: list[str] = []
    images: list[tuple[str, bytes]] = []
    candidates = response.get("candidates") or []
    finish = None
    if candidates:
        candidate = candidates[0]
        finish = candidate.get("finishReason") or candidate.get("finish_reason")
        for part in (candidate.get("content") or {}).get("parts") or []:
            inline = part.get("inlineData") or part.get("inline_data")
            if part.get("text") is not None and not part.get("thought"):
                texts.append(part["text"])
            elif inline and inline.get("data"):
                mime = inline.get("mimeType") or inline.get("mime_type") or "image/png"
                images.append((mime, base64.b64decode(inline["data"])))
    return "".join(texts), images, finish


@dataclass
class ResultsWritten:
    """A job whose results were written: where, and how many answers and errors."""

    job: str
    path: Path
    ok: int
    failed: int
    drop_file_id: int | None
    state: str


def _responses(ws: Workspace, job: BatchJob, remote: RemoteBatch) -> dict[str, bytes]:
    """key -> the raw result line (a file's `{"key", "response"|"error"}` or an inlined
    response rewritten to that shape). Position is never used to pair results."""
    found: dict[str, bytes] = {}
    responses_file = remote.responses_file or job.responses_file
    if responses_file:
        data = ws.gateway.run(ws.gateway.download_file(responses_file))
        for raw in data.splitlines():
            if not raw.strip():
                continue
            item = orjson.loads(raw)
            if item.get("key") is not None:
                found[str(item["key"])] = raw
        return found
    for item in remote.inlined_responses:
        key = (item.get("metadata") or {}).get("key")
        if key is not None:
            found[str(key)] = orjson.dumps({k: v for k, v in item.items() if k != "metadata"}
                                           | {"key": key})
    return found


def _input_order(drop: DropFile | None, responses: dict[str, bytes],
                 journal: dict[str, bytes]) -> Iterator[tuple[str, jsonl.BatchRequest | None]]:
    """Keys in input order when the input is still at hand, else as the results came."""
    if drop is not None and Path(drop.path).is_file():
        for request in jsonl.requests(Path(drop.path), display=Path(drop.path).name):
            yield request.key, request
        return
    seen = set()
    for key in [*journal, *responses]:
        if key not in seen:
            seen.add(key)
            yield key, None


def _log_interaction(ws: Workspace, request: jsonl.BatchRequest | None, *, model: str,
                     text: str, usage: Usage, cost: float, source: str) -> None:
    if request is None:
        return
    # Sampling, labels and whether logging is on at all are decided there (settings, runs).
    from console.services.interactions import record_interaction

    contents, config = jsonl.sdk_call(request.request)
    record_interaction(
        ws, model=model, tier="batch", source=source, contents=contents,
        system_instruction=config.get("system_instruction"), response_text=text,
        usage=usage, cost=cost,
    )


class ResultsLeaseLost(Exception):
    """Another process took the writing of these results over (this one stalled past its
    lease): it writes them; this one leaves them alone."""


class ResultsLease:
    """This process's lease on writing one job's results (store/repos/batches.py take_results):
    several processes on one store (watchers, consoles, the webhook receiver, `gemops batches
    collect`) may all find the same job finished; the one that takes the lease writes its
    results, the others pass it by. A heartbeat thread renews the lease while the results are
    downloaded and written; a process that dies leaves it to run out (`drop.lease_s`; at once
    for a dead process on the same host), and another writes the results then."""

    def __init__(self, ws: Workspace, name: str) -> None:
        self.ws = ws
        self.name = name
        self.lease_s = ws.settings.drop.lease_s
        # Unique per lease, so two threads of one process never mistake each other's lease
        # for their own; the part before "#" is the process, for the liveness check.
        self.owner = f"{process_owner()}#{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def take(self) -> bool:
        now = self.ws.clock()
        until = now + self.lease_s
        with self.ws.session() as session:
            if batches.take_results(session, self.name, owner=self.owner, now=now, until=until):
                return True
            holder, _ = batches.results_holder(session, self.name)
            if holder and not owner_alive(holder.partition("#")[0]):
                return batches.take_results(session, self.name, owner=self.owner, now=now,
                                            until=until, stale=holder)
        return False

    def renew(self) -> bool:
        with self.ws.session() as session:
            return batches.renew_results(session, self.name, owner=self.owner,
                                         until=self.ws.clock() + self.lease_s)

    def check(self) -> None:
        """Raise ResultsLeaseLost unless this process still holds the lease (renewing it)."""
        if not self.renew():
            raise ResultsLeaseLost(self.name)

    def __enter__(self) -> ResultsLease:
        self._beat = threading.Thread(target=self._heartbeat, name="gemops-results-lease",
                                      daemon=True)
        self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        # Written: results_done already let it go. Otherwise anyone may try again at once.
        with self.ws.session() as session:
            batches.let_go_results(session, self.name, owner=self.owner)

    def _heartbeat(self) -> None:
        every = max(0.05, self.lease_s / 3)
        while not self._stop.wait(every):
            try:
                if not self.renew():
                    return  # lost: check() tells the writer
            except Exception:  # a missed beat is retried; the lease says the rest
                continue


def write_job_results(ws: Workspace, job: BatchJob, drop: DropFile | None, *,
                      lease: ResultsLease | None = None) -> ResultsWritten:
    """Download a finished job's results and write them keyed, in input order; book each
    result in the ledger (once, even if this runs again after a crash, or in two processes:
    the ledger holds one batch_result row per request key). With `lease`, the results are
    written only while it is held (ResultsLeaseLost otherwise)."""
    results_path = Path(job.results_path or "")
    results_path.parent.mkdir(parents=True, exist_ok=True)
    images_dir = results_path.with_suffix("")
    missing = None
    try:
        # The job as it is now (the mirrored row may predate its end, e.g. a job that ended
        # as it was created): state, counts and where its output is.
        remote = ws.gateway.run(ws.gateway.get_batch(job.name))
        with ws.session() as session:
            batches.mirror_remote(session, [remote.row()], now=ws.clock(), complete=False)
            job = batches.get(session, job.name) or job
        responses = _responses(ws, job, remote)
    except GatewayError as error:
        if is_transient(error):
            raise
        # Gone for good (responses files live 48 h): say so on every line rather than never.
        responses = {}
        missing = f"the results could not be downloaded: {error}"
    missing = missing or f"no result: the batch job {job.state.removeprefix('JOB_STATE_').lower()}"
    if lease is not None:
        lease.check()  # a download that outlasted the lease: another process has taken over
    journal = read_journal(results_path)
    with ws.session() as session:
        booked = batches.ledgered_keys(session, f"{job.name}/")
    source = "batch" if drop is None or drop.route.startswith("cli") else "drop"
    model = job.model
    state_word = job.state.removeprefix("JOB_STATE_").lower()
    gateway = ws.gateway

    def line_for(key: str, request: jsonl.BatchRequest | None) -> bytes:
        if key in journal:  # answered concurrently before the rest went to batch
            return journal[key]
        raw = responses.get(key)
        ledger_key = ledger_request_key(job.name, key)
        if raw is None:
            message = missing + (f" ({job.error})" if job.error else "")
            return orjson.dumps(error_entry(key, code=None, message=message, model=model,
                                            tier="batch"))
        item = orjson.loads(raw)
        if item.get("response") is None:
            error = item.get("error") or {}
            code = error.get("code")
            message = error.get("message") or "failed"
            if ledger_key not in booked:
                gateway.record_batch_result(
                    model=model, usage=Usage(0), status=int(code or 500), error=message[:300],
                    request_key=ledger_key, source=source)
            return orjson.dumps(error_entry(key, code=code, message=message, model=model,
                                            tier="batch"))
        response = item["response"]
        text, images, finish = _response_parts(response)
        usage = Usage.from_metadata(response.get("usageMetadata") or {}, images_out=len(images))
        if ledger_key in booked:
            cost, _ = gateway.batch_cost(model, usage)
        else:
            cost, _ = gateway.record_batch_result(
                model=model, usage=usage, status=200, error=None, request_key=ledger_key,
                source=source)
            _log_interaction(ws, request, model=model, text=text, usage=usage, cost=cost,
                             source=source)
        return orjson.dumps(ok_entry(key, model=model, tier="batch", text=text, usage=usage,
                                     cost=cost, finish_reason=finish,
                                     images=save_images(images_dir, key, images)))

    ok = failed = 0
    written: set[str] = set()
    clear_dead_writers(results_path)
    # Per writer: two processes writing the same results never share a half-written file.
    tmp = writer_part(results_path)
    try:
        with tmp.open("wb") as out:
            ordered = _input_order(drop, responses, journal)
            # Results for keys the input no longer has (it was edited since) still get a line.
            leftover = ((k, None) for k in [*journal, *responses] if k not in written)
            for key, request in itertools.chain(ordered, leftover):
                if key in written:
                    continue
                written.add(key)
                line = line_for(key, request)
                success = b'"status":"ok"' in line
                ok += success
                failed += not success
                out.write(line + b"\n")
        tmp.replace(results_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    gateway.flush_ledger()
    checkpoint("results_booked")
    now = ws.clock()
    with ws.session() as session:
        batches.results_done(session, job.name, now=now)
        if drop is not None:
            step = DONE if job.state == SUCCEEDED else FAILED
            drops.advance(session, drop.id, now=now, step=step, finished_at=now,
                          done_requests=ok, error=None if step == DONE else
                          f"batch job {state_word}: {job.error or ''}".strip(": "))
            drops.add_event(session, at=now, kind="results", path=str(results_path),
                            detail=f"{ok} ok, {failed} failed", drop_file_id=drop.id)
    journal_path(results_path).unlink(missing_ok=True)
    return ResultsWritten(job.name, results_path, ok, failed, job.drop_file_id, job.state)


def writer_part(results_path: Path) -> Path:
    """The half-written results of this process and thread, named by who writes them."""
    owner = process_owner().replace(":", "+")
    return results_path.with_name(f"{results_path.name}.w-{owner}+{threading.get_ident()}.part")


def clear_dead_writers(results_path: Path) -> None:
    """Remove the half-written results a killed writer left beside `results_path`. Only a
    writer on this host that no longer runs: another host's, or a live one's, stay."""
    prefix = f"{results_path.name}.w-"
    for part in results_path.parent.glob(f"{glob.escape(prefix)}*.part"):
        fields = part.name[len(prefix):-len(".part")].split("+")
        if len(fields) == 4 and not owner_alive(":".join(fields[:3])):
            part.unlink(missing_ok=True)


def collect_finished(ws: Workspace, names: Iterable[str] | None = None) -> list[ResultsWritten]:
    """Write results for every finished job gemops submitted whose results are not yet
    written. Call it after `sync_once(ws)`; a job whose download fails is tried next time."""
    with ws.session() as session:
        jobs = batches.awaiting_results(session, list(names) if names is not None else None)
        by_id = {j.drop_file_id: drops.get(session, j.drop_file_id)
                 for j in jobs if j.drop_file_id is not None}
    written = []
    for job in jobs:
        lease = ResultsLease(ws, job.name)
        if not lease.take():
            continue  # another process is writing them (or just wrote them)
        try:
            with lease:
                written.append(write_job_results(
                    ws, job, by_id.get(job.drop_file_id) if job.drop_file_id is not None
                    else None, lease=lease))
        except ResultsLeaseLost:
            continue
        except (GatewayError, OSError) as error:
            if not is_transient(error):
                raise
    collect_judge_jobs(ws, names)
    return written


def collect_judge_jobs(ws: Workspace, names: Iterable[str] | None = None) -> int:
    """The quality judge's batch jobs (quality.judge_tier = "batch") that sync saw end: their
    verdicts are stored beside the interactions. Returns how many jobs were collected."""
    from console.services import quality

    wanted = quality.judge_jobs(ws)
    if names is not None:
        names = set(names)
        wanted = [n for n in wanted if n in names]
    done = 0
    for name in wanted:
        with ws.session() as session:
            job = batches.get(session, name)
        if job is None or not job.done:
            continue
        try:
            responses = _responses(ws, job, ws.gateway.run(ws.gateway.get_batch(name)))
        except GatewayError as error:
            if is_transient(error):
                continue  # tried again next time
            responses = {}  # gone for good: each score says so
        quality.store_batch_verdicts(ws, name, job.state.removeprefix("JOB_STATE_"), responses)
        done += 1
    return done


def write_results_for(ws: Workspace, name: str, out: Path) -> ResultsWritten:
    """Results of any finished job (one gemops did not submit too) written to `out`."""
    with ws.session() as session:
        job = batches.get(session, name)
        if job is None:
            raise LookupError(f"no batch job {name} (run `gemops sync --once` first?)")
        batches.annotate(session, name, results_path=str(out))
        drop = drops.get(session, job.drop_file_id) if job.drop_file_id else None
        job = batches.get(session, name)
    assert job is not None
    if not job.done:
        raise ValueError(f"{name} is {job.state.removeprefix('JOB_STATE_')}: no results yet")
    return write_job_results(ws, job, drop)


# -- stuck jobs (batches.on_stuck = "recreate") ---------------------------------------------


def recreate_stuck(ws: Workspace) -> list[tuple[str, str]]:
    """Cancel each job gemops submitted that is stuck in PENDING and submit the same content
    again, once: the intent is recorded before the cancel, so a restart finishes what it
    began and never starts a second one; a job that is itself a recreation, or whose content
    was already recreated, is left alone (flagged only). Returns (old, new) names."""
    if ws.settings.batches.on_stuck != "recreate":
        return []
    now = ws.clock()
    with ws.session() as session:
        for view in job_views(ws):
            job = view.job
            if not view.stuck or job.drop_file_id is None or not job.results_path:
                continue
            if recreations.involving(session, job.name) or recreations.for_drop(
                    session, job.drop_file_id):
                continue
            recreations.start(session, old_name=job.name, drop_file_id=job.drop_file_id,
                              now=now, reason=f"PENDING for {view.in_state_s or 0:.0f} s")
            # Its CANCELLED end has no results to write: the new job's are the file's.
            batches.annotate(session, job.name, results_written_at=now)
        todo = recreations.unfinished(session)
    done = []
    for item in todo:
        new_name = _finish_recreation(ws, item)
        if new_name:
            done.append((item.old_name, new_name))
    return done


def _finish_recreation(ws: Workspace, item: recreations.Recreation) -> str | None:
    gateway = ws.gateway
    with ws.session() as session:
        old = batches.get(session, item.old_name)
        drop = drops.get(session, item.drop_file_id) if item.drop_file_id else None
    if old is None or drop is None:
        with ws.session() as session:
            recreations.advance(session, item.old_name, step="done", error="job or file gone",
                                finished_at=ws.clock())
        return None
    if item.step == "cancelling":
        try:
            gateway.run(gateway.cancel_batch(item.old_name))
        except GatewayError as error:
            if is_transient(error):
                raise
            # Already ended (or gone): it is no longer pending either way.
        with ws.session() as session:
            recreations.advance(session, item.old_name, step="creating")
        checkpoint("recreate-cancelled")
    name = display_name(drop.content_hash, drop.name)
    # A create sent before a crash: its job carries the same content tag; reuse it.
    tag = name.rsplit(" ", 1)[-1]
    found = next((remote for remote in gateway.run(gateway.list_batches())
                  if remote.name != item.old_name and remote.display_name.endswith(tag)
                  and not remote.cancelled), None)
    if found is not None:
        row = found.row()
    else:
        if drop.remote_file:
            src: Any = drop.remote_file
        else:
            src = [_inlined(r) for r in jsonl.requests(Path(drop.path), display=drop.name)]
        job = gateway.run(gateway.create_batch(old.model, src, {"display_name": name}))
        row = job.submitted(request_count=old.request_count, model=old.model).row()
    now = ws.clock()
    with ws.session() as session:
        batches.record_created(session, row, now=now, drop_file_id=drop.id,
                               results_path=old.results_path)
        drops.advance(session, drop.id, now=now, batch_name=row["name"])
        drops.add_event(session, at=now, kind="recreated", path=drop.path,
                        detail=f"{item.old_name} stuck in PENDING -> {row['name']}",
                        drop_file_id=drop.id)
        recreations.advance(session, item.old_name, step="done", new_name=row["name"],
                            finished_at=now)
    return row["name"]
