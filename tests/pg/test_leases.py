"""Leases between two watchers of one folder on one PostgreSQL store, on an injected clock: the
holder keeps the other out while it beats, and loses the claim once its lease runs out."""

from __future__ import annotations

from console.bootstrap import make_workspace
from console.services.dropfolder import DropFolder
from console.settings import load_settings
from store.repos import drops


def test_a_claim_held_by_a_live_watcher_is_left_alone_until_its_lease_runs_out(pg_url, tmp_path):
    now = [1000.0]
    settings = load_settings(store={"url": pg_url}, drop={"lease_s": 30.0})
    a_ws = make_workspace(settings, clock=lambda: now[0])
    b_ws = make_workspace(settings, clock=lambda: now[0])
    try:
        a, b = DropFolder(a_ws, tmp_path / "drop"), DropFolder(b_ws, tmp_path / "drop")
        a.owner = "host-a:4242:1"  # another host: its liveness cannot be seen from here
        assert a.shared and b.shared
        with a_ws.session() as s:
            claim, _ = drops.claim(s, content_hash="h", name="f", path=str(a.root / "f.jsonl"),
                                   route="batch", step="claimed", now=now[0])
        assert a._take(claim)
        assert b.resume(claim) is None  # held: b does nothing with it
        now[0] += 25
        assert a.heartbeat() == 1  # a still works on it: pushed to 1055
        now[0] += 25
        assert not b._take(claim)
        now[0] += 6  # a died after its last beat: the lease ran out at 1055
        assert b._take(claim)
        assert a.heartbeat() == 0  # a (if it were alive) learns it lost the claim
        with b_ws.session() as s:
            assert drops.get(s, claim.id).owner == b.owner
        b._let_go(claim)
        with b_ws.session() as s:
            assert drops.get(s, claim.id).owner is None
    finally:
        a_ws.close()
        b_ws.close()
