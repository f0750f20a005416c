"""No raw PII and no API key on disk: tier runs, drop files named after a customer with PII in
their keys and prompts (concurrent and batch routes), logging on and off; then every byte of the
database and its WAL is searched for the seeded values."""

from __future__ import annotations

import os

import orjson
import pytest

from console.bootstrap import make_workspace
from console.services.tiers import TierPlan, run_tier_test
from console.settings import load_settings
from store.repos import drops
from tests.e2e.test_dropfolder import Watcher, wait_for
from tests.e2e.test_logging import leaks, pii_records, raw_values

API_KEY = "AIzaSyD-gemops-test-key-0123456789abcdef"
FAST = {"batch": {"pending_s": 0.0, "per_request_s": 0.0}}
CUSTOMERS = ["maria.lopez@example.org", "j.smith+billing@corp.example.com"]


def database_bytes(db) -> bytes:
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


@pytest.mark.parametrize("emulator_config", [FAST], indirect=True)
@pytest.mark.parametrize("logging_on", [False, True], ids=["logging-off", "logging-on"])
def test_no_raw_pii_or_key_reaches_the_database(emulator, tmp_path, logging_on):
    records = pii_records(12)
    seeded = raw_values(records) | set(CUSTOMERS)
    db = tmp_path / "gemops.sqlite3"
    settings = load_settings(
        store={"path": db}, api_key=API_KEY,
        gemini={"base_url": emulator.base_url}, logging={"enabled": logging_on},
        drop={"settle_ms": 50}, sync={"fast_interval_s": 0.2, "interval_s": 0.5},
    )
    ws = make_workspace(settings)
    root = tmp_path / "drop"
    watcher = None
    try:
        report = run_tier_test(ws, TierPlan(
            model="gemini-2.5-flash", prompt=records[0]["text"] + " " + CUSTOMERS[0],
            tiers=("standard",), runs_per_tier=2, timeouts={"standard": 30}))
        assert report.run.prompt_kept is False

        watcher = Watcher(ws, root).start()
        for customer, route, chunk in ((CUSTOMERS[0], "standard", records[:5]),
                                       (CUSTOMERS[1], "batch", records[5:])):
            lines = [orjson.dumps({"key": f"{customer}#{i}", "prompt": r["text"]})
                     for i, r in enumerate(chunk)]
            staged = tmp_path / f"{customer}.jsonl"
            staged.write_bytes(b"\n".join(lines) + b"\n")
            (root / route).mkdir(parents=True, exist_ok=True)
            os.replace(staged, root / route / f"{customer}.jsonl")

        def finished() -> bool:
            with ws.session() as session:
                done = drops.with_steps(session, ("done",), under=str(root))
            return len(done) == 2

        wait_for(finished, 60, "both files' results")
        results = sorted(p.name for p in (root / "results").glob("*.jsonl"))
        assert len(results) == 2 and not any("@" in name for name in results)
        blob = database_bytes(db)
    finally:
        if watcher is not None:
            watcher.close()
        ws.close()
    blob += database_bytes(db)
    assert leaks(blob, seeded) == []
    assert API_KEY.encode() not in blob
    # The redacted forms did get written: the scan looked at real rows.
    assert b"REDACTED" in blob
