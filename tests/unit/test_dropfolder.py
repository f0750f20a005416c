"""The drop folder without the network: layout, completeness, settling, the lock, claims,
and rejection (which sends nothing, so needs no connection)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import orjson
import pytest

from console.bootstrap import make_workspace
from console.services.dropfolder import DropFolder, DropFolderBusy, is_complete
from console.services.errors import GatewayError
from store.repos import drops

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"


@pytest.fixture
def workspace(settings):
    ws = make_workspace(settings)
    yield ws
    ws.close()


@pytest.fixture
def folder(workspace, tmp_path):
    notices: list = []
    drop = DropFolder(workspace, tmp_path / "drop", notify=notices.append)
    drop.ensure_layout()
    drop.notices = notices  # type: ignore[attr-defined]
    yield drop
    drop.release()


def test_the_layout_has_route_and_outcome_folders(folder):
    names = {p.name for p in folder.root.iterdir()}
    assert {"batch", "flex", "standard", "priority", "submitted", "rejected", "duplicates",
            "results"} <= names


@pytest.mark.parametrize(
    ("relative", "route"),
    [
        ("a.jsonl", "auto"),
        ("batch/a.jsonl", "batch"),
        ("flex/a.jsonl", "flex"),
        ("priority/a.jsonl", "priority"),
        ("submitted/a.jsonl", None),
        ("results/a.jsonl", None),
        ("batch/deeper/a.jsonl", None),
    ],
)
def test_routes_come_from_the_subfolder(folder, relative, route):
    assert folder.route_of(folder.root / relative) == route


@pytest.mark.parametrize("name", ["a.jsonl.tmp", "a.jsonl.part", ".a.jsonl", "a.json", "a.txt"])
def test_temporary_hidden_and_other_files_are_ignored(folder, name):
    assert not folder.wanted(folder.root / name)
    assert folder.wanted(folder.root / "a.jsonl")


def test_a_file_is_complete_when_its_last_line_is(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"prompt": "a"}\n{"prompt": "b"}\n')
    assert is_complete(path)
    path.write_bytes(b'{"prompt": "a"}\n{"prompt": "b"}')  # no final newline, still whole
    assert is_complete(path)
    path.write_bytes(b'{"prompt": "a"}\n{"prompt": "b')
    assert not is_complete(path)
    path.write_bytes(b"x" * 200_000 + b'\n{"prompt": ')  # a long file, cut mid-line
    assert not is_complete(path)


def test_settling_waits_for_a_quiet_file_and_a_whole_last_line(folder):
    # Quiet time is read from file mtimes, so the test ages a file by setting its mtime
    # rather than sleeping: a minute of settling no loaded machine can outlast by accident.
    folder.settings.settle_ms = 60_000
    past = time.time() - 120
    fresh = folder.root / "fresh.jsonl"
    fresh.write_text('{"prompt": "a"}\n')
    old = folder.root / "renamed-in.jsonl"
    old.write_text('{"prompt": "b"}\n')
    os.utime(old, (past, past))  # written two minutes ago, then moved in: complete at once
    half = folder.root / "half.jsonl"
    half.write_text('{"prompt": "c"}\n{"prom')
    os.utime(half, (past, past))
    for path in (fresh, old, half):
        folder.candidate(path)
    assert folder.settled() == [old]
    os.utime(fresh, (past, past))  # fresh has now been quiet for longer than settle_ms
    assert folder.settled() == [fresh]
    assert [n.kind for n in folder.notices] == ["waiting"]  # said once, not every check
    with half.open("a") as handle:  # the writer finishes the line: written just now
        handle.write('pt": "d"}\n')
    assert folder.settled() == []
    os.utime(half, (past, past))
    assert folder.settled() == [half]


def test_one_watcher_per_folder(folder, workspace):
    folder.acquire()
    other = DropFolder(workspace, folder.root)
    with pytest.raises(DropFolderBusy, match="already watched"):
        other.acquire()
    folder.release()
    other.acquire()
    other.release()


def test_a_content_hash_is_claimed_once(workspace):
    with workspace.session() as session:
        first, made = drops.claim(session, content_hash="h", name="a", path="/d/a.jsonl",
                                  route="batch", step="claimed", now=1.0)
        again, made_again = drops.claim(session, content_hash="h", name="b", path="/d/b.jsonl",
                                        route="flex", step="claimed", now=2.0)
    assert made and not made_again and again.id == first.id and again.path == "/d/a.jsonl"


def test_an_invalid_file_is_rejected_with_every_bad_line_and_nothing_sent(folder, workspace):
    source = folder.root / "batch" / "tickets.jsonl"
    source.write_bytes((FIXTURES / "malformed.jsonl").read_bytes())
    drop = folder.process(source)
    assert drop is not None and drop.step == "rejected"
    rejected = folder.root / "rejected"
    assert (rejected / "tickets.jsonl").read_bytes() == (FIXTURES / "malformed.jsonl").read_bytes()
    errors = (rejected / "tickets.errors.txt").read_text()
    for line in (2, 3, 4, 5, 6, 7, 8):
        assert f"batch/tickets.jsonl:{line}: " in errors
    status = json.loads((rejected / "tickets.status.json").read_text())
    assert status["step"] == "rejected" and status["errors"] == "rejected/tickets.errors.txt"
    assert not source.exists()
    assert not workspace.connected  # validation sends nothing


def test_rejected_content_dropped_again_is_looked_at_again(folder):
    bad = b'{"key": "a"}\n'
    for attempt in range(2):
        path = folder.root / "again.jsonl"
        path.write_bytes(bad)
        assert folder.process(path).step == "rejected", attempt
    names = sorted(p.name for p in (folder.root / "rejected").glob("*.jsonl"))
    assert len(names) == 2 and names[0].startswith("again")  # nothing overwritten


def test_a_batch_file_naming_two_models_is_rejected_line_by_line(folder):
    path = folder.root / "batch" / "mixed.jsonl"
    path.write_text("\n".join([
        orjson.dumps({"prompt": "a", "model": "gemini-2.5-flash"}).decode(),
        orjson.dumps({"prompt": "b", "model": "gemini-2.5-pro"}).decode(),
        orjson.dumps({"prompt": "c", "model": "gemini-2.5-flash"}).decode(),
    ]) + "\n")
    assert folder.process(path).step == "rejected"
    errors = (folder.root / "rejected" / "mixed.errors.txt").read_text()
    assert "batch/mixed.jsonl:2: model: 'gemini-2.5-pro' differs" in errors
    assert ":1:" not in errors and ":3:" not in errors


def _claim_in(folder, workspace, name: str):
    path = folder.root / "batch" / f"{name}.jsonl"
    path.write_text('{"prompt": "a"}\n')
    with workspace.session() as session:
        drop, _ = drops.claim(session, content_hash=name, name=name, path=str(path),
                              route="batch", step="validated", now=1.0)
    return drop


def test_a_transient_failure_of_a_claim_is_retried_with_back_off(folder, workspace):
    drop = _claim_in(folder, workspace, "flaky")

    def unreachable(_drop):
        raise GatewayError("upload_file", 503, "overloaded")

    assert folder._guarded(unreachable, drop, drop.id, drop.path) is None
    assert folder.backing_off(drop.id)
    with workspace.session() as session:
        assert drops.get(session, drop.id).step == "validated"  # left to try again


def test_a_claim_failing_for_a_non_transient_reason_is_failed_not_retried_forever(
    folder, workspace
):
    drop = _claim_in(folder, workspace, "buggy")

    def bug(_drop):
        raise KeyError("usage")

    assert folder._guarded(bug, drop, drop.id, drop.path) is None
    assert not folder.backing_off(drop.id)
    with workspace.session() as session:
        failed = drops.get(session, drop.id)
    assert failed.step == "failed" and "KeyError" in failed.error
    assert Path(failed.path).parent.name == "rejected"
    assert drop.id not in [d.id for d in folder.unfinished()]
    assert any(n.kind == "failed" and "not retried" in n.detail for n in folder.notices)
