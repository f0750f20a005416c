"""The sample workload runs end to end on the emulator, says what it does, finishes its batch
within seconds (the emulator's own timing put back), and leaves real rows and results."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from console.bootstrap import make_workspace
from console.services.samples import (
    BATCH_NAME,
    SampleRefused,
    already_run,
    run_sample_workload,
)
from console.services.sync import sync_once
from store.repos import batches, caches, ledger


@pytest.mark.parametrize(
    "emulator_config", [{"batch": {"pending_s": 120.0, "per_request_s": 2.0}}], indirect=True
)
def test_sample_workload_fills_every_area_and_finishes_its_batch(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings)
    steps: list[str] = []
    try:
        assert not already_run(ws)
        summary = run_sample_workload(ws, steps.append, batch_timing={
            "pending_s": 0.2, "per_request_s": 0.05}, sleep=lambda s: None)
        assert "cache cachedContents/" in summary and "batch batches/" in summary
        assert "results in" in summary
        assert [s.split(" ", 1)[0] for s in steps if not s.startswith("4/")] == [
            "1/5", "2/5", "3/5", "5/5"]
        assert sync_once(ws).error is None
        with ws.session() as s:
            assert len(caches.active(s, now=ws.clock())) == 1
            [job] = batches.listing(s)
            tiers = {(r.operation, r.tier_asked) for r in ledger.recent(s)}
        assert job.display_name == BATCH_NAME and job.state == "JOB_STATE_SUCCEEDED"
        # Submitted by gemops: results were written where it said, one line per question.
        assert job.results_path and job.results_written_at is not None
        with open(job.results_path) as results:
            assert len(results.read().splitlines()) == job.request_count == 6
        assert {("generate", "flex"), ("generate", "standard"), ("generate", "priority")} <= tiers
        assert ("create_cache", "standard") in tiers and ("create_batch", "standard") in tiers
        # The emulator's own batch timing is back for the user's batches.
        assert emulator.state.config.batch.pending_s == 120.0
        assert emulator.state.config.batch.per_request_s == 2.0
        assert already_run(ws)
    finally:
        ws.close()


def test_the_sample_workload_refuses_a_live_key(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.api_key = SecretStr("a-real-key")
    ws = make_workspace(settings)
    try:
        with pytest.raises(SampleRefused, match="emulator only"):
            run_sample_workload(ws)
    finally:
        ws.close()
