"""The stuck-batch policy end to end: a job PENDING past `batches.stuck_after` is cancelled and
submitted again once (same content), both jobs linked; never twice, even across a restart."""

from __future__ import annotations

import orjson
import pytest

from console.bootstrap import make_workspace
from console.services import batches
from console.services.dropfolder import DropFolder
from console.services.sync import sync_once
from store.repos import drops, recreations

STUCK = {"batch": {"pending_s": 10_000_000.0, "per_request_s": 0.0}}
START = 1_790_000_000.0


class Clock:
    now = START

    def __call__(self) -> float:
        return self.now


def lines(count: int) -> bytes:
    return b"".join(orjson.dumps({"key": f"k{i}", "request": {"contents": [
        {"role": "user", "parts": [{"text": f"stuck question {i}"}]}]}}) + b"\n"
        for i in range(count))


def open_ws(settings, clock):
    return make_workspace(settings, clock=clock)


def close(ws) -> None:
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


def remote_jobs(ws) -> list[dict]:
    return ws.gateway.run(ws.gateway.raw_list("batches"))


@pytest.mark.parametrize("emulator_config", [STUCK], indirect=True)
def test_stuck_job_is_recreated_once_and_never_twice_even_across_a_restart(
        settings, emulator, tmp_path):
    settings.gemini.base_url = emulator.base_url
    settings.batches.stuck_after = 3600.0
    settings.batches.on_stuck = "recreate"
    clock = Clock()
    ws = open_ws(settings, clock)
    root = tmp_path / "drop"
    folder = DropFolder(ws, root)
    folder.ensure_layout()
    (root / "batch" / "nightly.jsonl").write_bytes(lines(3))
    drop = folder.process(root / "batch" / "nightly.jsonl")
    assert drop.step == "submitted"
    first = drop.batch_name

    sync_once(ws)
    assert not batches.recreate_stuck(ws)  # pending, but not for long yet
    clock.now += 3601
    sync_once(ws)  # the tick applies the policy
    jobs = {j["name"]: j for j in remote_jobs(ws)}
    assert len(jobs) == 2
    assert jobs[first]["metadata"]["state"].endswith("CANCELLED")
    [second] = [n for n in jobs if n != first]
    tag = batches.display_name(drop.content_hash, drop.name)
    assert jobs[second]["metadata"]["displayName"] == tag  # the same content
    with ws.session() as session:
        assert drops.get(session, drop.id).batch_name == second
    views = {v.name: v for v in batches.job_views(ws)}
    assert views[first].linked == f"recreated as {second} (stuck in PENDING)"
    assert views[second].linked == f"recreation of {first}"
    assert views[first].job.results_written_at is not None  # no results expected from it

    clock.now += 2 * 3601  # the new job is stuck too: flagged, never recreated
    sync_once(ws)
    assert views[second].job.name in {v.name for v in batches.job_views(ws) if v.stuck}
    assert len(remote_jobs(ws)) == 2
    close(ws)

    restarted = open_ws(settings, clock)  # a restart: the record says it was done
    clock.now += 3601
    sync_once(restarted)
    assert batches.recreate_stuck(restarted) == []
    assert len(remote_jobs(restarted)) == 2
    close(restarted)


@pytest.mark.parametrize("emulator_config", [STUCK], indirect=True)
def test_a_recreation_cut_short_is_finished_after_a_restart_not_begun_again(
        settings, emulator, tmp_path):
    settings.gemini.base_url = emulator.base_url
    settings.batches.stuck_after = 60.0
    settings.batches.on_stuck = "recreate"
    clock = Clock()
    ws = open_ws(settings, clock)
    root = tmp_path / "drop"
    folder = DropFolder(ws, root)
    folder.ensure_layout()
    (root / "batch" / "cut.jsonl").write_bytes(lines(2))
    drop = folder.process(root / "batch" / "cut.jsonl")
    sync_once(ws)
    clock.now += 61

    gateway = ws.gateway

    async def refused(*args, **kwargs):
        raise ConnectionError("the network went away after the cancel")

    gateway.create_batch = refused  # the cancel goes out, the create does not
    with pytest.raises(ConnectionError):
        batches.recreate_stuck(ws)
    with ws.session() as session:
        [pending] = recreations.unfinished(session)
    assert pending.old_name == drop.batch_name and pending.step == "creating"
    close(ws)

    restarted = open_ws(settings, clock)
    clock.now += 61
    sync_once(restarted)
    names = [j["name"] for j in remote_jobs(restarted)]
    assert len(names) == 2
    with restarted.session() as session:
        assert not recreations.unfinished(session)
        assert drops.get(session, drop.id).batch_name in names
        assert drops.get(session, drop.id).batch_name != drop.batch_name
    sync_once(restarted)
    assert len(remote_jobs(restarted)) == 2
    close(restarted)
