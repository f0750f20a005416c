"""Exactly once across kill -9: a `gemops watch` process SIGKILLs itself at a named step
(GEMOPS_TEST_CRASH_AT), a fresh watcher on the same folder and database resumes, and the
emulator's request log shows each file uploaded and its batch created exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from console.bootstrap import make_workspace
from console.settings import load_settings
from tests.e2e.test_dropfolder import Watcher, wait_for

FAST = {"batch": {"pending_s": 0.0, "per_request_s": 0.0}}
# The step to die at, and the step the claim is left at.
CRASHES = {
    "claimed": "claimed",      # hash claimed, nothing sent
    "uploaded": "uploaded",    # file uploaded, no job asked for
    "submitting": "submitting",  # about to send the create
    "created": "submitting",   # the create was answered, its name never recorded
    "submitted": "submitted",  # the job recorded, its status file not yet written
}


def watcher(root: Path, db: Path, base_url: str, crash_at: str | None) -> subprocess.Popen:
    env = dict(os.environ)
    env |= {
        "GEMOPS_GEMINI__BASE_URL": base_url,
        "GEMOPS_STORE__PATH": str(db),
        "GEMOPS_DROP__SETTLE_MS": "50",
        "GEMOPS_SYNC__FAST_INTERVAL_S": "0.2",
        "GEMOPS_SYNC__INTERVAL_S": "0.5",
    }
    env.pop("GEMOPS_TEST_CRASH_AT", None)
    if crash_at:
        env["GEMOPS_TEST_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli", "watch", str(root)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def requests_for(base_url: str, operation: str) -> list[dict]:
    rows = httpx.get(f"{base_url}/_emulator/requests",
                     params={"operation": operation, "limit": 5000}).json()["requests"]
    return [r for r in rows if r["status"] == 200]


def claim_step(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT step FROM drop_files").fetchone()[0]


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
def test_a_watcher_killed_at_any_step_resumes_without_sending_twice(emulator, tmp_path):
    base = emulator.base_url
    runs = {}
    # One folder and database per crash point; the five crashes run side by side.
    for step in CRASHES:
        root, db = tmp_path / step / "drop", tmp_path / step / "gemops.sqlite3"
        (root / "batch").mkdir(parents=True)
        process = watcher(root, db, base, crash_at=step)
        runs[step] = (root, db, process)
    for root, _, _ in runs.values():
        wait_for(lambda root=root: (root / ".gemops" / "watch.lock").exists(), 30, "a start")
    time.sleep(0.5)  # let their inotify watches settle in before the files land
    for step, (root, _, _) in runs.items():
        lines = [orjson.dumps({"key": f"{step}-{i}", "prompt": f"{step} {i}"}) for i in range(12)]
        incoming = root.parent / f"{step}.jsonl"
        incoming.write_bytes(b"\n".join(lines) + b"\n")
        os.replace(incoming, root / "batch" / f"{step}.jsonl")

    for step, (_, db, process) in runs.items():
        output, _ = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, f"{step}: {output}"
        assert claim_step(db) == CRASHES[step], step

    creates_after_crashes = len(requests_for(base, "batchGenerateContent"))
    assert creates_after_crashes == 2  # `created` and `submitted` got that far

    # Restarted (in this process, to keep the test quick): each resumes from its recorded step.
    workspaces, watchers = [], []
    try:
        for root, db, _ in runs.values():
            settings = load_settings(store={"path": db}, gemini={"base_url": base},
                                     drop={"settle_ms": 50}, sync={"fast_interval_s": 0.2})
            workspaces.append(make_workspace(settings))
            watchers.append(Watcher(workspaces[-1], root).start())
        for step, (root, _, _) in runs.items():
            results = root / "results" / f"{step}.jsonl"
            wait_for(results.exists, 60, f"results of {step}")
            keys = [orjson.loads(line)["key"] for line in results.read_bytes().splitlines()]
            assert keys == [f"{step}-{i}" for i in range(12)]
            assert (root / "submitted" / f"{step}.jsonl").exists()
            assert not (root / "batch" / f"{step}.jsonl").exists()
    finally:
        for running in watchers:
            running.close()
        for workspace in workspaces:
            workspace.gateway.flush_ledger()
            workspace.close()

    # Exactly once: five files, five uploads, five jobs (one per content hash).
    assert len(requests_for(base, "files.upload")) == len(CRASHES)
    assert len(requests_for(base, "batchGenerateContent")) == len(CRASHES)
    names = sorted(b["display_name"].split(" ")[0] for b in emulator.state.batches.batches.values())
    assert names == sorted(CRASHES)
