"""Several watchers, one folder, one PostgreSQL: three `gemops watch` processes share a drop
folder while watchers are SIGKILLed and replaced (one dies right after an upload, leaving its
claim leased half-way), and the emulator's request log shows every file's batch created exactly
once, every file's results written, and no file parked as a duplicate of itself."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.test_dropfolder import wait_for
from tests.e2e.test_dropfolder_crash import requests_for

FAST = {"batch": {"pending_s": 0.3, "per_request_s": 0.0}}
FILES = 24
LEASE_S = 1.5


def watcher(root: Path, url: str, base_url: str, log: Path, crash_at: str | None = None):
    env = dict(os.environ)
    env |= {
        "GEMOPS_GEMINI__BASE_URL": base_url,
        "GEMOPS_STORE__URL": url,
        "GEMOPS_DROP__SETTLE_MS": "50",
        "GEMOPS_DROP__LEASE_S": str(LEASE_S),
        "GEMOPS_SYNC__FAST_INTERVAL_S": "0.2",
        "GEMOPS_SYNC__INTERVAL_S": "0.3",
    }
    env.pop("GEMOPS_TEST_CRASH_AT", None)
    if crash_at:
        env["GEMOPS_TEST_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, "-m", "console.cli", "watch", str(root)], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def drop(root: Path, n: int) -> None:
    lines = [orjson.dumps({"key": f"f{n}-{i}", "prompt": f"file {n} line {i}"}) for i in range(3)]
    incoming = root.parent / f"f{n}.jsonl"
    incoming.write_bytes(b"\n".join(lines) + b"\n")
    os.replace(incoming, root / "batch" / f"f{n}.jsonl")


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
def test_three_watchers_with_kills_submit_every_file_exactly_once(emulator, pg_url, tmp_path):
    base = emulator.base_url
    root = tmp_path / "drop"
    (root / "batch").mkdir(parents=True)
    log = tmp_path / "watchers.log"
    rng = random.Random(16)
    # One of the three dies right after recording its first upload: a claim left leased.
    running = [watcher(root, pg_url, base, log, crash_at="uploaded"),
               watcher(root, pg_url, base, log), watcher(root, pg_url, base, log)]
    everyone = list(running)
    kills = 0
    try:
        wait_for(lambda: (root / ".gemops").is_dir(), 30, "a watcher to start")
        time.sleep(1.0)  # every watcher's inotify watch in place
        for n in range(FILES):
            drop(root, n)
            if n % 6 == 5:  # a watcher is killed mid-stream and replaced
                victim = running.pop(rng.randrange(len(running)))
                if victim.poll() is None:
                    victim.send_signal(signal.SIGKILL)
                    kills += 1
                victim.wait(10)
                running.append(watcher(root, pg_url, base, log))
                everyone.append(running[-1])
            time.sleep(0.05)
        results = [root / "results" / f"f{n}.jsonl" for n in range(FILES)]
        wait_for(lambda: all(p.exists() for p in results), 120, "every file's results")
    finally:
        for process in everyone:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in everyone:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    crashed = everyone[0].returncode == -signal.SIGKILL
    creates = requests_for(base, "batchGenerateContent")
    uploads = requests_for(base, "files.upload")
    names = [b["display_name"].split(" ")[0] for b in emulator.state.batches.batches.values()]
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        steps = dict(conn.execute(text(
            "SELECT step, count(*) FROM drop_files GROUP BY step")).all())
        resumed = conn.execute(text(
            "SELECT count(*) FROM (SELECT drop_file_id FROM drop_events WHERE kind = 'claimed'"
            " OR kind = 'uploaded' GROUP BY drop_file_id, kind HAVING count(*) > 1) AS again"
            )).scalar()
    engine.dispose()
    print(f"\nwatchers started: {len(everyone)}, SIGKILLed: {kills} (+1 at 'uploaded': "
          f"{crashed}); files: {FILES}; batch creates: {len(creates)}; uploads: {len(uploads)}; "
          f"claims by step: {steps}; duplicates parked: "
          f"{len(list((root / 'duplicates').glob('*.jsonl')))}; steps done twice: {resumed}")

    assert crashed, log.read_text()[-3000:]
    assert len(creates) == FILES
    assert sorted(names) == sorted(f"f{n}" for n in range(FILES))
    assert steps == {"done": FILES}
    assert not list((root / "duplicates").glob("*.jsonl"))
    for n in range(FILES):
        keys = [orjson.loads(line)["key"]
                for line in (root / "results" / f"f{n}.jsonl").read_bytes().splitlines()]
        assert keys == [f"f{n}-{i}" for i in range(3)]
        assert (root / "submitted" / f"f{n}.jsonl").exists()
