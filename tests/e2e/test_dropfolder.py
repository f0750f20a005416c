"""The drop folder end to end: a real watcher (watchfiles on a real folder) against the
emulator through the real SDK. Twenty files — valid, malformed, half-written, duplicate, one
of each route — each valid one submitted once with results keyed; each invalid one rejected
with its line numbers; nothing deleted."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from console.bootstrap import make_workspace
from console.services import dropfolder
from console.services.dropfolder import DropFolder

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"
FAST = {"batch": {"pending_s": 0.0, "per_request_s": 0.0}}
PNG = b"\x89PNG\r\n\x1a\n"


def rest_lines(prefix: str, count: int) -> bytes:
    return b"".join(
        orjson.dumps({"key": f"{prefix}-{i}", "request": {"contents": [
            {"role": "user", "parts": [{"text": f"{prefix} question {i}"}]}]}}) + b"\n"
        for i in range(count)
    )


def shorthand_lines(prefix: str, count: int, **extra) -> bytes:
    return b"".join(
        orjson.dumps({"key": f"{prefix}-{i}", "prompt": f"{prefix} prompt {i}", **extra}) + b"\n"
        for i in range(count)
    )


def land(path: Path, data: bytes) -> None:
    """Drop a file the safe way: written beside the folder, then renamed in."""
    tmp = path.with_name(f".{path.name}.incoming")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def logged(emulator, operation: str) -> list[dict]:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests",
                     params={"operation": operation, "limit": 5000}).json()["requests"]
    return [r for r in rows if r["status"] == 200]


def results_of(root: Path, name: str) -> list[dict]:
    return [orjson.loads(line) for line in (root / "results" / f"{name}.jsonl").read_bytes()
            .splitlines()]


class Watcher:
    """A DropFolder running in a thread, as `gemops watch` runs it."""

    def __init__(self, ws, root: Path) -> None:
        self.notices: list[dropfolder.DropNotice] = []
        self.stop = threading.Event()
        self.folder = DropFolder(ws, root, notify=self.notices.append)
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import asyncio

        try:
            asyncio.run(self.folder.run(self.stop))
        except BaseException as error:
            self.errors.append(error)

    def start(self) -> Watcher:
        self.thread.start()
        wait_for(lambda: self.folder._lock_handle is not None, what="the watcher to start")
        time.sleep(0.2)  # the inotify watch is set up by the first awatch step
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive() and not self.errors, self.errors

    def kinds(self, path: str) -> list[str]:
        return [n.kind for n in self.notices if n.path == path]


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.drop.settle_ms = 100
    settings.sync.fast_interval_s = 0.2
    settings.sync.interval_s = 0.5
    workspace = make_workspace(settings)
    yield workspace
    if workspace.connected:
        workspace.gateway.flush_ledger()
    workspace.close()


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
def test_twenty_files_each_valid_one_sent_once_each_invalid_one_rejected(ws, emulator, tmp_path):
    root = tmp_path / "drop"
    watcher = Watcher(ws, root).start()
    dropped: dict[str, bytes] = {}

    def put(relative: str, data: bytes) -> None:
        dropped[relative] = data
        land(root / relative, data)

    try:
        fixture = {n: (FIXTURES / f"{n}.jsonl").read_bytes()
                   for n in ("valid", "defaults", "shorthand", "images", "malformed")}
        # Routed by size from the folder itself, and by subfolder.
        put("small.jsonl", shorthand_lines("small", 3))                      # 1 standard
        put("big.jsonl", rest_lines("big", 12))                              # 2 batch
        put("batch/tickets.jsonl", fixture["defaults"])                      # 3 defaults header
        put("batch/valid.jsonl", fixture["valid"])                           # 4
        put("batch/shorthand.jsonl", fixture["shorthand"])                   # 5
        put("batch/art.jsonl", fixture["images"])                            # 6 images
        put("batch/bulk.jsonl", rest_lines("bulk", 60))                      # 7
        put("flex/flex-a.jsonl", rest_lines("flex-a", 4))                    # 8
        put("flex/flex-b.jsonl", shorthand_lines("flex-b", 3))               # 9
        put("standard/std.jsonl", shorthand_lines("std", 2) + shorthand_lines(
            "std-img", 1, model="gemini-2.5-flash-image"))                   # 10 image online
        put("priority/prio.jsonl", rest_lines("prio", 2))                    # 11
        # Invalid ones.
        put("batch/malformed.jsonl", fixture["malformed"])                   # 12
        put("flex/bad-config.jsonl", shorthand_lines("hot", 2, config={"temperature": 9}))  # 13
        put("broken.jsonl", b"this is not json\n{also not}\n")               # 14
        put("batch/mixed.jsonl", shorthand_lines("m", 1, model="gemini-2.5-flash")
            + shorthand_lines("p", 1, model="gemini-2.5-pro"))               # 15
        put("empty.jsonl", b"\n\n")                                          # 16
        # Half-written: the writer stops mid-line for longer than the settle time.
        slow = rest_lines("slow", 11)
        dropped["batch/slow.jsonl"] = slow
        (root / "batch" / "slow.jsonl").write_bytes(slow[: len(slow) // 2 + 7])  # 17
        # Ignored while still a .part, and hidden files.
        put("batch/later.jsonl.part", rest_lines("later", 2))                # 18
        put(".hidden.jsonl", rest_lines("hidden", 2))                        # 19

        wait_for(lambda: (root / "submitted" / "valid.status.json").exists(), what="valid")
        wait_for(lambda: (root / "submitted" / "small.status.json").exists(), what="small")
        # The same content again, under other names: reported, not sent.
        put("batch/valid-copy.jsonl", fixture["valid"])                      # 20
        put("standard/small-again.jsonl", dropped["small.jsonl"])            # 21

        wait_for(lambda: watcher.kinds("batch/slow.jsonl") == ["waiting"], what="waiting")
        time.sleep(0.4)  # well past the settle time: the half-written file must still wait
        assert (root / "batch" / "slow.jsonl").exists()
        assert watcher.kinds("batch/slow.jsonl") == ["waiting"]
        with (root / "batch" / "slow.jsonl").open("ab") as handle:
            handle.write(slow[len(slow) // 2 + 7:])

        sent = ["small", "big", "tickets", "valid", "shorthand", "art", "bulk", "flex-a",
                "flex-b", "std", "prio", "slow"]
        for name in sent:
            wait_for(lambda name=name: (root / "results" / f"{name}.jsonl").exists(),
                     what=f"results of {name}")
        wait_for(lambda: all(
            orjson.loads((root / "submitted" / f"{n}.status.json").read_bytes())["step"] == "done"
            for n in sent), what="every status to say done")
    finally:
        watcher.close()

    # Every valid file was sent exactly once: one job per batch file, one call per line.
    batch_files = ["big", "tickets", "valid", "shorthand", "art", "bulk", "slow"]
    assert len(logged(emulator, "batchGenerateContent")) == len(batch_files)
    assert len(logged(emulator, "files.upload")) == len(batch_files)
    jobs = sorted(b["display_name"].split(" ")[0] for b in emulator.state.batches.batches.values())
    assert jobs == sorted(batch_files)
    assert len(logged(emulator, "generateContent")) == 3 + 4 + 3 + 3 + 2
    tiers = {r["tier_requested"] for r in logged(emulator, "generateContent")}
    assert {"flex", "priority"} <= {str(t).lower() for t in tiers}

    # Results: one line per input key, in input order, answers matched by key.
    assert [r["key"] for r in results_of(root, "big")] == [f"big-{i}" for i in range(12)]
    assert [r["key"] for r in results_of(root, "bulk")] == [f"bulk-{i}" for i in range(60)]
    assert [r["key"] for r in results_of(root, "slow")] == [f"slow-{i}" for i in range(11)]
    assert [r["key"] for r in results_of(root, "tickets")] == ["t-1001", "t-1002", "t-1003",
                                                              "t-1004"]
    for name, tier in (("flex-a", "flex"), ("prio", "priority"), ("small", "standard")):
        results = results_of(root, name)
        assert all(r["status"] == "ok" and r["tier"] == tier for r in results), name
        for r in results:
            assert f"{r['key'].rsplit('-', 1)[0]} " in r["text"]  # the emulator echoes
    assert all(r["tier"] == "batch" for r in results_of(root, "valid"))
    for name, key in (("art", "cat"), ("art", "logo"), ("std", "std-img-0")):
        assert (root / "results" / name / f"{key}-1.png").read_bytes().startswith(PNG)

    # Invalid files: rejected with every bad line named.
    errors = (root / "rejected" / "malformed.errors.txt").read_text()
    assert all(f"batch/malformed.jsonl:{n}:" in errors for n in (2, 3, 4, 5, 6, 7, 8))
    assert "flex/bad-config.jsonl:1: config.temperature" in (
        root / "rejected" / "bad-config.errors.txt").read_text()
    assert "broken.jsonl:2: json" in (root / "rejected" / "broken.errors.txt").read_text()
    assert "batch/mixed.jsonl:2: model:" in (root / "rejected" / "mixed.errors.txt").read_text()
    assert "no requests" in (root / "rejected" / "empty.errors.txt").read_text()
    for name in ("malformed", "bad-config", "broken", "mixed", "empty"):
        status = orjson.loads((root / "rejected" / f"{name}.status.json").read_bytes())
        assert status["step"] == "rejected" and status["file"] == f"rejected/{name}.jsonl"

    # Duplicates: parked and reported with what they duplicate.
    copy = orjson.loads((root / "duplicates" / "valid-copy.status.json").read_bytes())
    assert copy["duplicate_of"] == "submitted/valid.jsonl" and copy["batch"]
    again = orjson.loads((root / "duplicates" / "small-again.status.json").read_bytes())
    assert again["duplicate_of"] == "submitted/small.jsonl"

    # Nothing deleted: every byte dropped is still in the folder, ignored files untouched.
    present = {hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.jsonl*")
               if p.parent.name != "results" and p.is_file()}
    for relative, data in dropped.items():
        assert hashlib.sha256(data).hexdigest() in present, relative
    assert (root / "batch" / "later.jsonl.part").exists() and (root / ".hidden.jsonl").exists()
    status = orjson.loads((root / "submitted" / "big.status.json").read_bytes())
    assert status["route"] == "batch" and status["state"] == "SUCCEEDED"
    assert status["results"] == "results/big.jsonl" and status["succeeded"] == 12


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
def test_an_open_circuit_sends_the_rest_of_a_concurrent_file_to_batch(ws, emulator, tmp_path):
    ws.settings.drop.concurrency = 1
    root = tmp_path / "drop"
    gateway = ws.gateway
    answered = []

    def open_after_two(exchange) -> None:
        answered.append(exchange)
        if len(answered) == 2:  # two quota errors' worth: the breaker opens
            breaker = gateway.limiter.bucket(exchange.model, "flex").breaker
            breaker.open_until = gateway.clock() + 600

    gateway.observers.append(open_after_two)
    watcher = Watcher(ws, root).start()
    try:
        land(root / "flex" / "mostly-batch.jsonl", rest_lines("q", 6))
        wait_for(lambda: (root / "results" / "mostly-batch.jsonl").exists(), what="results")
        # With the circuit still open, a new flex file goes to batch whole.
        land(root / "flex" / "all-batch.jsonl", rest_lines("r", 3))
        wait_for(lambda: (root / "results" / "all-batch.jsonl").exists(), what="results 2")
    finally:
        watcher.close()
    results = results_of(root, "mostly-batch")
    assert [r["key"] for r in results] == [f"q-{i}" for i in range(6)]
    assert [r["tier"] for r in results] == ["flex", "flex"] + ["batch"] * 4
    assert all(r["status"] == "ok" for r in results)
    assert [r["tier"] for r in results_of(root, "all-batch")] == ["batch"] * 3
    assert len(logged(emulator, "generateContent")) == 2
    assert len(logged(emulator, "batchGenerateContent")) == 2
    assert "fallback" in watcher.kinds("submitted/mostly-batch.jsonl")


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
def test_watch_once_sends_what_is_there_and_exits(settings, emulator, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from console.cli import main

    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator.base_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    monkeypatch.setenv("GEMOPS_DROP__SETTLE_MS", "50")
    root = tmp_path / "drop"
    (root / "batch").mkdir(parents=True)
    land(root / "batch" / "nightly.jsonl", rest_lines("n", 15))
    land(root / "quick.jsonl", shorthand_lines("q", 2))
    result = CliRunner().invoke(main, ["watch", str(root), "--once", "--json"])
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    kinds = {(e["kind"], e["path"]) for e in events}
    assert ("claimed", "batch/nightly.jsonl") in kinds
    assert ("submitted", "submitted/nightly.jsonl") in kinds
    assert ("results", "results/quick.jsonl") in kinds
    assert ("results", "results/nightly.jsonl") in kinds  # the job was done by the last sync
    assert [r["key"] for r in results_of(root, "nightly")] == [f"n-{i}" for i in range(15)]
    # A second run finds nothing new to send.
    again = CliRunner().invoke(main, ["watch", str(root), "--once", "--json"])
    assert again.exit_code == 0 and "submitted" not in again.output
    assert len(logged(emulator, "batchGenerateContent")) == 1
