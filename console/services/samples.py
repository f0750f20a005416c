"""The sample workload a newcomer runs on the emulator: a real cache, calls on every tier and a
small batch, all through the gateway, so every pane has something true to show.

It says what it is doing step by step (`progress`), and it finishes in seconds: the batch is
created while the emulator is told, through its control surface, to run batches quickly (the
emulator keeps a batch's timing from its creation, so the user's own batches keep the
realistic one), and the workload waits for it, mirrors it and writes its results like any
batch gemops submitted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from console.services.workspace import Workspace
from store.repos import batches, caches

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
MODEL = "gemini-2.5-flash"
SYSTEM = "You are a Northwind Outfitters support agent. Answer from the handbook."
CACHE_NAME = "support handbook (sample)"
BATCH_NAME = "support questions (sample)"
# The sample batch's timing on the emulator: PENDING for 2 s, then half a second a request.
SAMPLE_BATCH_TIMING = {"pending_s": 2.0, "per_request_s": 0.5}
WAIT_S = 60.0  # give up waiting for the batch after this long (it still finishes later)
POLL_S = 1.0
STEPS = 5

Progress = Callable[[str], None]


class SampleRefused(Exception):
    """The sample workload will not run here (a live key is set: it would spend money)."""


def _questions() -> list[str]:
    return [q for q in (SAMPLES_DIR / "questions.txt").read_text().splitlines() if q.strip()]


def already_run(ws: Workspace) -> bool:
    """Whether the store holds the sample's batch or cache: a second run makes duplicates."""
    with ws.session() as session:
        jobs = batches.listing(session)
        live = caches.active(session, now=ws.clock())
    return any(j.display_name == BATCH_NAME for j in jobs) or any(
        c.display_name == CACHE_NAME for c in live)


def results_path(ws: Workspace, batch_name: str) -> Path:
    """Beside the database, like the embedded emulator's state: never in the repository."""
    folder = ws.settings.db_path.with_name("samples") / "results"
    return folder / f"support-questions-{batch_name.rsplit('/', 1)[-1]}.jsonl"


class _EmulatorBatchTiming:
    """Asks the emulator for quick batches while the sample's is created, then puts its
    settings back (PATCH /_emulator/config; the timing is kept per batch from its creation)."""

    def __init__(self, base_url: str | None, timing: dict[str, float]) -> None:
        self._url = f"{base_url.rstrip('/')}/_emulator/config" if base_url else None
        self._timing = timing
        self._saved: dict[str, Any] | None = None

    def __enter__(self) -> bool:
        if self._url is None:
            return False
        try:
            current = httpx.get(self._url, timeout=5.0).json().get("batch") or {}
            self._saved = {k: current[k] for k in self._timing if k in current}
            httpx.patch(self._url, json={"batch": self._timing}, timeout=5.0).raise_for_status()
        except (httpx.HTTPError, ValueError):  # an emulator without the control surface
            self._saved = None
            return False
        return True

    def __exit__(self, *_exc: object) -> None:
        if self._url is not None and self._saved:
            try:
                httpx.patch(self._url, json={"batch": self._saved}, timeout=5.0)
            except httpx.HTTPError:
                pass


async def _calls(ws: Workspace, say: Progress) -> tuple[Any, int, int]:
    gateway = ws.gateway
    handbook = (SAMPLES_DIR / "handbook.md").read_text()
    questions = _questions()
    say(f"1/{STEPS} creating an explicit cache of the support handbook…")
    cache = await gateway.create_cache(
        MODEL,
        {
            "contents": [{"role": "user", "parts": [{"text": handbook}]}],
            "system_instruction": SYSTEM,
            "display_name": CACHE_NAME,
            "ttl": "3600s",
        },
    )
    say(f"2/{STEPS} {len(questions)} calls: 2 on the cache, 2 on flex, 2 on priority…")
    calls = [
        gateway.generate(MODEL, q, {"cached_content": cache.name}, source="sample")
        for q in questions[:2]
    ]
    calls += [gateway.generate(MODEL, q, tier="flex", source="sample") for q in questions[2:4]]
    calls += [gateway.generate(MODEL, q, tier="priority", source="sample") for q in questions[4:]]
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed = sum(isinstance(r, BaseException) for r in results)
    return cache, len(results), failed


def _create_batch(ws: Workspace, say: Progress, timing: dict[str, float]) -> str:
    gateway = ws.gateway
    questions = _questions()
    say(f"3/{STEPS} submitting a batch of {len(questions)} questions (inline requests)…")
    requests = [
        {"contents": [{"role": "user", "parts": [{"text": q}]}], "metadata": {"key": f"q{i}"}}
        for i, q in enumerate(questions, start=1)
    ]
    with _EmulatorBatchTiming(ws.connection.base_url, timing):
        job = gateway.run(gateway.create_batch(MODEL, requests, {"display_name": BATCH_NAME}))
    row = job.submitted(request_count=len(requests), model=MODEL).row()
    with ws.session() as session:
        # Recorded with where its results go: `r` on it (and every sync) writes them.
        batches.record_created(session, row, now=ws.clock(),
                               results_path=str(results_path(ws, job.name)))
    return job.name


def _wait_for_batch(ws: Workspace, name: str, say: Progress, *, wait_s: float,
                    sleep: Callable[[float], None]) -> str:
    deadline = time.monotonic() + wait_s
    while True:
        remote = ws.gateway.run(ws.gateway.get_batch(name))
        state = remote.state.removeprefix("JOB_STATE_")
        done = remote.succeeded_count + remote.failed_count
        if state in ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"):
            return state
        if time.monotonic() >= deadline:
            return state
        say(f"4/{STEPS} waiting for the batch: {state}, {done} of {remote.request_count} "
            "answered (a few seconds on the emulator)…")
        sleep(POLL_S)


def run_sample_workload(
    ws: Workspace,
    progress: Progress | None = None,
    *,
    batch_timing: dict[str, float] | None = None,
    wait_s: float = WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Blocking; call from a worker thread or a command. `progress` hears each step."""
    from console.services.batches import collect_finished
    from console.services.sync import sync_once
    from console.settings import Mode

    say = progress or (lambda _text: None)
    if ws.mode is not Mode.EMULATOR:
        raise SampleRefused("the sample workload runs on the emulator only (an API key is set: "
                            "it would spend real money)")
    cache, calls, failed = ws.gateway.run(_calls(ws, say))
    name = _create_batch(ws, say, batch_timing or SAMPLE_BATCH_TIMING)
    state = _wait_for_batch(ws, name, say, wait_s=wait_s, sleep=sleep)
    say(f"5/{STEPS} batch {state.lower()}: syncing and writing its results…")
    sync_once(ws)
    written = collect_finished(ws, names=[name])
    note = f", {failed} failed" if failed else ""
    if written:
        ending = f"batch {name} done, results in {written[0].path}"
    else:
        ending = f"batch {name} {state.lower()} (its results are written when it finishes)"
    return (f"sample workload: cache {cache.name}, {calls} calls on flex/standard/priority"
            f"{note}, {ending}")
