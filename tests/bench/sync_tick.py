"""sync_tick: seconds for one sync tick over 10,000 batch jobs and 1,000 caches (emulator).

The emulator runs in this process and its state is seeded directly (`server.state`), not
through 11,000 API calls: 8,000 finished jobs, 1,500 running, 500 pending. A tick is measured
end to end — list every page over HTTP, parse, upsert into a fresh SQLite file in one
transaction — first on an empty database (cold), then in the steady state the loop lives in
(warm; the headline figure, median of 5). The baseline, in the same run, lists the same
collections through the SDK's own pagers (`client.batches.list`, `client.caches.list`,
`client.files.list`, every object parsed by pydantic) and writes nothing.
The same ticks then run into a PostgreSQL database on a local server (fsync on), same run,
reported beside the SQLite figures (`postgresql_*`).
Target: <= 1.0 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tests import pg_server
from tests.bench._harness import BenchResult

BATCHES = {"finished": 8000, "running": 1500, "pending": 500}
CACHES = 1000
WARM_RUNS = 5
BASELINE_RUNS = 3


def _seed(server) -> None:
    state = server.state
    timing = state.config.batch
    request = {"requests": [{"request": {"contents": [{"parts": [{"text": "hello"}]}]}}]}
    # Per-job timing is copied from the settings at creation: one phase per group.
    phases = {
        "finished": (1.0, 0.01),
        "running": (0.0, 86_400.0),
        "pending": (7 * 86_400.0, 0.01),
    }
    for group, count in BATCHES.items():
        timing.pending_s, timing.per_request_s = phases[group]
        for i in range(count):
            state.batches.create(
                "models/gemini-2.5-flash",
                {"batch": {"displayName": f"{group} {i}", "inputConfig": {"requests": request}}},
                "v1beta",
                server.base_url,
            )
    text = "Northwind operator handbook, section {0}. " * 120
    for i in range(CACHES):
        state.caches.create(
            {
                "model": "models/gemini-2.5-flash",
                "displayName": f"cache {i}",
                "contents": [{"role": "user", "parts": [{"text": text.format(i)}]}],
                "ttl": "86400s",
            },
            "v1beta",
        )
    server.clock.advance(5)
    # Finishing jobs builds their results once; that is the emulator's work, not a tick's.
    state.tick()


def _sdk_listing(client) -> int:
    seen = 0
    for _ in client.batches.list(config={"page_size": 1000}):
        seen += 1
    for _ in client.caches.list(config={"page_size": 1000}):
        seen += 1
    for _ in client.files.list(config={"page_size": 100}):
        seen += 1
    return seen


def _ticks(sync_once, make_workspace, load_settings, server, store: dict):
    """A cold tick into an empty database, then WARM_RUNS steady-state ticks."""
    settings = load_settings(store=store)
    settings.gemini.base_url = server.base_url
    ws = make_workspace(settings, clock=server.clock.now)
    try:
        # Connect (the SDK import, the client) before any tick is timed.
        assert ws.connection.gateway is not None
        started = time.perf_counter()
        cold = sync_once(ws)
        cold_s = time.perf_counter() - started
        if not cold.ok:
            raise RuntimeError(f"sync failed: {cold.error}")
        warm = []
        for _ in range(WARM_RUNS):
            started = time.perf_counter()
            result = sync_once(ws)
            warm.append(time.perf_counter() - started)
    finally:
        ws.close()
    return cold_s, warm, result


def run() -> BenchResult:
    from google import genai
    from google.genai import types

    from console.bootstrap import make_workspace
    from console.emulator import EmulatorConfig, EmulatorServer
    from console.services.sync import sync_once
    from console.settings import load_settings

    server = EmulatorServer(EmulatorConfig(seed=7)).start()
    home = Path(tempfile.mkdtemp(prefix="gemops-bench-sync-"))
    try:
        _seed(server)
        cold_s, warm, result = _ticks(sync_once, make_workspace, load_settings, server,
                                      {"path": home / "gemops.sqlite3"})
        rows = result.batches + result.caches + result.files
        # The same ticks into a team's PostgreSQL (a local server, fsync on), same run.
        pg = pg_server.start_or_none(durable=True)
        if pg is not None:
            try:
                pg_cold, pg_warm, pg_result = _ticks(
                    sync_once, make_workspace, load_settings, server,
                    {"url": pg.create_database("bench_sync")})
            finally:
                pg.stop()
            if pg_result.batches + pg_result.caches + pg_result.files != rows:
                raise RuntimeError("PostgreSQL tick synced a different number of rows")

        client = genai.Client(
            api_key="bench", http_options=types.HttpOptions(base_url=server.base_url)
        )
        baseline = []
        for _ in range(BASELINE_RUNS):
            started = time.perf_counter()
            listed = _sdk_listing(client)
            baseline.append(time.perf_counter() - started)
    finally:
        server.stop()
    if rows != sum(BATCHES.values()) + CACHES or listed != rows:
        raise RuntimeError(f"expected {sum(BATCHES.values()) + CACHES} rows, synced {rows}, "
                           f"SDK listed {listed}")
    return BenchResult(
        name="sync_tick",
        value=statistics.median(warm),
        unit="s",
        baseline=statistics.median(baseline),
        baseline_label="SDK pagers, listing only",
        target="<= 1.0 s",
        extra={
            "cold_tick_s": round(cold_s, 3),
            "warm_ticks_s": [round(x, 3) for x in warm],
            "baseline_runs_s": [round(x, 3) for x in baseline],
            "rows": rows,
            "running_batches": result.running,
            "postgresql_cold_tick_s": round(pg_cold, 3) if pg else "no PostgreSQL here",
            "postgresql_warm_tick_s": round(statistics.median(pg_warm), 3) if pg else None,
            "postgresql_warm_ticks_s": [round(x, 3) for x in pg_warm] if pg else None,
        },
    )
