"""drop_latency: a 1,000-line file landing in the watched folder -> its batch job created (p50 s).

The watcher runs as `gemops watch` does (watchfiles, default debounce and settle time) against
the emulator on loopback; each file is written beside the folder and renamed in (the safe way
to drop a file), and its clock starts at the rename. It stops when the job is recorded.
Baseline (same run, same files, same emulator): the submission done by hand — upload the file
and create the batch through the gateway, no watcher. Target: p50 <= 0.5 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import orjson

from console.bootstrap import make_workspace
from console.emulator import EmulatorConfig, EmulatorServer
from console.services.dropfolder import DropFolder, DropNotice
from console.settings import load_settings
from tests.bench._harness import BenchResult

LINES = 1_000
FILES = 12
TARGET_S = 0.5
MODEL = "gemini-2.5-flash"


def requests_file(path: Path, run: int) -> None:
    path.write_bytes(b"".join(
        orjson.dumps({"key": f"r{run}-{i}", "request": {"contents": [{"role": "user", "parts": [
            {"text": f"Run {run}, ticket {i}: summarise the customer's complaint about a late "
                     "parcel and propose a goodwill gesture in two sentences."}]}]}}) + b"\n"
        for i in range(LINES)
    ))


def by_hand(ws, path: Path) -> float:
    """What a user scripts without gemops: upload, then create the batch from the file."""
    started = time.perf_counter()
    uploaded = ws.gateway.run(ws.gateway.upload_file(path, mime_type="application/jsonl"))
    ws.gateway.run(ws.gateway.create_batch(MODEL, uploaded.name, {"display_name": path.stem}))
    return time.perf_counter() - started


def run() -> BenchResult:
    config = EmulatorConfig(seed=3)
    config.update({"batch": {"pending_s": 3600.0}})
    server = EmulatorServer(config).start()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        settings = load_settings(store={"path": base / "gemops.sqlite3"},
                                 gemini={"base_url": server.base_url})
        ws = make_workspace(settings)
        submitted: dict[str, float] = {}
        seen = threading.Condition()

        def notify(notice: DropNotice) -> None:
            if notice.kind == "submitted":
                with seen:
                    submitted[Path(notice.path).stem] = time.perf_counter()
                    seen.notify_all()

        root = base / "drop"
        drop = DropFolder(ws, root, notify=notify)
        stop = threading.Event()
        watcher = threading.Thread(target=lambda: asyncio.run(drop.run(stop)), daemon=True)
        try:
            watcher.start()
            while drop._lock_handle is None:
                time.sleep(0.01)
            time.sleep(0.5)  # the inotify watch is in place
            landed: dict[str, float] = {}
            hand: list[float] = []
            for run_number in range(FILES):
                name = f"run-{run_number:02d}"
                hand_copy = base / f"{name}-by-hand.jsonl"
                requests_file(hand_copy, run_number)
                hand.append(by_hand(ws, hand_copy))
                # Written just before it lands: the settle time is not shortened by an old mtime.
                staging = base / f"{name}.jsonl"
                requests_file(staging, run_number)
                landed[name] = time.perf_counter()
                os.replace(staging, root / "batch" / f"{name}.jsonl")
                with seen:
                    seen.wait_for(lambda name=name: name in submitted, timeout=30)
                time.sleep(0.2)  # let the watcher go quiet between files
        finally:
            stop.set()
            watcher.join(30)
            ws.gateway.flush_ledger()
            ws.close()
            server.stop()
    latencies = [submitted[name] - at for name, at in landed.items() if name in submitted]
    if len(latencies) != FILES:
        raise RuntimeError(f"only {len(latencies)} of {FILES} files were submitted")
    p50 = statistics.median(latencies)
    return BenchResult(
        name="drop_latency",
        value=p50,
        unit="s p50 (landed -> batch created)",
        baseline=statistics.median(hand),
        baseline_label="upload + create by hand",
        target=f"<= {TARGET_S} s for a {LINES:,}-line file",
        extra={
            "files": FILES,
            "lines_per_file": LINES,
            "p90_s": round(sorted(latencies)[int(0.9 * (FILES - 1))], 3),
            "max_s": round(max(latencies), 3),
            "settle_ms": settings.drop.settle_ms,
            "debounce_ms": settings.drop.debounce_ms,
            "by_hand_p50_s": round(statistics.median(hand), 3),
            "meets_target": p50 <= TARGET_S,
        },
    )
