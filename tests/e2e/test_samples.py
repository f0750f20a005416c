"""The sample workload runs end to end on the emulator and leaves real rows behind."""

from __future__ import annotations

from console.bootstrap import make_workspace
from console.services.samples import run_sample_workload
from console.services.sync import sync_once
from store.repos import batches, caches, ledger


def test_sample_workload_fills_every_area(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings)
    try:
        summary = run_sample_workload(ws)
        assert "cache cachedContents/" in summary and "batch batches/" in summary
        assert sync_once(ws).error is None
        with ws.session() as s:
            assert len(caches.active(s, now=ws.clock())) == 1
            assert [b.display_name for b in batches.listing(s)] == ["support questions (sample)"]
            tiers = {(r.operation, r.tier_asked) for r in ledger.recent(s)}
        assert {("generate", "flex"), ("generate", "standard"), ("generate", "priority")} <= tiers
        assert ("create_cache", "standard") in tiers and ("create_batch", "standard") in tiers
    finally:
        ws.close()
