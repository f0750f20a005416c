"""Export throughput (rows/s to Gemini-tuning JSONL) and memory, against a naive ORM export.

Two databases of logged interactions are built with one SQL statement each (100,000 and
1,000,000 rows of realistic sanitized turns, labels on every row). On the 100,000 rows: our
streaming export, and the baseline people write first (load every row with the ORM, then
json.dumps each), both measured in this run. On the 1,000,000 rows: our export again, with the
process's resident memory sampled throughout, to show it stays flat. Then the same 100,000
rows from a PostgreSQL database on a local server (fsync on), same run (`postgresql_*`).
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

from console.bootstrap import make_workspace
from console.services.export import export_interactions
from console.settings import load_settings
from store.records import InteractionFilter
from store.tables import InteractionRow
from tests import pg_server
from tests.bench._harness import BenchResult

ROWS = 100_000
BIG_ROWS = 1_000_000
TARGET_ROWS_S = 100_000

# One logged interaction per row: a system instruction on half, a two-turn history on a third,
# prompts and responses of a few hundred characters with redaction tokens in them.
_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO interactions (id, at, model, tier, source, prompt_tokens, output_tokens,
                          thought_tokens, cost, system_instruction, contents_json, response_text)
SELECT i, 1790000000.0 + i,
       CASE i % 3 WHEN 0 THEN 'gemini-2.5-pro' ELSE 'gemini-2.5-flash' END,
       CASE i % 4 WHEN 0 THEN 'flex' ELSE 'standard' END,
       CASE i % 5 WHEN 0 THEN 'batch' ELSE 'console' END,
       120 + i % 900, 40 + i % 300, 0, 0.0002,
       CASE i % 2 WHEN 0 THEN 'You are a support agent for Northwind Outfitters. Be brief.' END,
       CASE i % 3 WHEN 0 THEN
         '[{"role":"user","parts":[{"text":"Hello, I ordered a jacket last week (order ' || i ||
         ') and it has not arrived."}]},{"role":"model","parts":[{"text":"Sorry to hear that! '
         || 'Could you confirm the email on the order?"}]},{"role":"user","parts":[{"text":"'
         || 'Sure, it is [EMAIL_REDACTED] and my phone is [PHONE_REDACTED]. Please hurry, it is '
         || 'a gift for Saturday."}]}]'
       ELSE
         '[{"role":"user","parts":[{"text":"Summarise ticket ' || i || ': the customer paid '
         || 'with card [CARD_REDACTED] and asks for a refund of the duplicate charge made on '
         || 'Monday. They can be reached at [EMAIL_REDACTED]."}]}]'
       END,
       'Thanks for your patience. I have checked order ' || i || ' and it is on its way; '
       || 'you will receive tracking details at the address on file within the hour. If the '
       || 'parcel has not arrived by Friday, reply here and we will send a replacement.'
FROM n
"""
_LABELS = """
INSERT INTO interaction_labels (interaction_id, key, value)
SELECT id, 'dataset', CASE id % 2 WHEN 0 THEN 'support-v2' ELSE 'support-v1' END
FROM interactions
"""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """The peak resident size while a block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> RssSampler:
        gc.collect()
        self.start = self.peak = _rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def _workspace(folder: Path, rows: int, url: str | None = None):
    store = {"url": url} if url else {"path": folder / f"bench-{rows}.sqlite3"}
    ws = make_workspace(load_settings(store=store))
    with ws.store.engine.begin() as conn:
        conn.execute(text(_FILL), {"rows": rows})
        conn.execute(text(_LABELS))
    if url:
        with ws.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with ws.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return ws


def _postgresql(folder: Path) -> dict:
    """The same 100,000-row export (and the label filter) from a PostgreSQL database on a local
    server, in the same run: the figures a team's store gives beside the SQLite file's."""
    server = pg_server.start_or_none(durable=True)
    if server is None:
        return {"postgresql": "no PostgreSQL here"}
    try:
        ws = _workspace(folder, ROWS, server.create_database("bench_export"))
        try:
            export_interactions(ws, folder / "pg-warm.jsonl")
            seconds, mb, summary = _timed(
                lambda: export_interactions(ws, folder / "pg.jsonl", fmt="gemini"))
            assert summary.rows == ROWS  # type: ignore[attr-defined]
            label_s, _, labelled = _timed(lambda: export_interactions(
                ws, folder / "pg-label.jsonl",
                flt=InteractionFilter(labels=(("dataset", "support-v2"),))))
            same = (folder / "pg.jsonl").read_bytes() == (folder / "ours.jsonl").read_bytes()
        finally:
            ws.close()
    finally:
        server.stop()
    return {
        "postgresql_rows_s": round(ROWS / seconds),
        "postgresql_seconds": round(seconds, 3),
        "postgresql_rss_growth_mb": round(mb, 1),
        "postgresql_label_filtered_rows_s": round(labelled.rows / label_s),  # type: ignore[attr-defined]
        "postgresql_same_file_as_sqlite": same,
    }


def naive_export(ws, out: Path) -> int:
    """Load every row as an ORM object, then json.dumps each one."""
    with Session(ws.store.engine) as session:
        rows = session.exec(select(InteractionRow).order_by(InteractionRow.id)).all()
        with out.open("w", encoding="utf-8") as fh:
            for row in rows:
                record: dict = {}
                if row.system_instruction is not None:
                    record["systemInstruction"] = {
                        "role": "system", "parts": [{"text": row.system_instruction}]
                    }
                turns = json.loads(row.contents_json)
                turns.append({"role": "model", "parts": [{"text": row.response_text}]})
                record["contents"] = turns
                fh.write(json.dumps(record) + "\n")
    return len(rows)


def _timed(fn) -> tuple[float, float, object]:
    with RssSampler() as rss:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return seconds, rss.growth_mb, result


def run() -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="gemops-bench-export-") as tmp:
        folder = Path(tmp)
        # The million rows first, while nothing else has grown the heap: any growth is ours.
        big = _workspace(folder, BIG_ROWS)
        try:
            big_s, big_mb, big_summary = _timed(
                lambda: export_interactions(big, folder / "big.jsonl", fmt="gemini")
            )
            assert big_summary.rows == BIG_ROWS  # type: ignore[attr-defined]
            big_bytes = (folder / "big.jsonl").stat().st_size
        finally:
            big.close()
        (folder / "big.jsonl").unlink()
        ws = _workspace(folder, ROWS)
        try:
            # Warm the page cache once, so both sides read from memory.
            export_interactions(ws, folder / "warm.jsonl")
            ours_s, ours_mb, summary = _timed(
                lambda: export_interactions(ws, folder / "ours.jsonl", fmt="gemini")
            )
            assert summary.rows == ROWS  # type: ignore[attr-defined]
            label_s, _, labelled = _timed(
                lambda: export_interactions(
                    ws, folder / "label.jsonl",
                    flt=InteractionFilter(labels=(("dataset", "support-v2"),)),
                )
            )
            naive_s, naive_mb, naive_rows = _timed(lambda: naive_export(ws, folder / "naive.jsonl"))
            assert naive_rows == ROWS
            same = (folder / "ours.jsonl").read_text().splitlines()[:3] == [
                json.dumps(json.loads(line), separators=(",", ":"))
                for line in (folder / "naive.jsonl").read_text().splitlines()[:3]
            ]
        finally:
            ws.close()
        on_postgresql = _postgresql(folder)
    ours = ROWS / ours_s
    return BenchResult(
        name="export",
        value=ours,
        unit="rows/s",
        baseline=ROWS / naive_s,
        baseline_label="naive ORM load-all + json.dumps",
        target=f">= {TARGET_ROWS_S:,} rows/s to JSONL; flat memory for 1M rows",
        extra={
            "rows": ROWS,
            "ours_seconds": round(ours_s, 3),
            "ours_rss_growth_mb": round(ours_mb, 1),
            "naive_seconds": round(naive_s, 3),
            "naive_rss_growth_mb": round(naive_mb, 1),
            "label_filtered_rows": labelled.rows,  # type: ignore[attr-defined]
            "label_filtered_rows_s": round(labelled.rows / label_s),  # type: ignore[attr-defined]
            "same_lines_as_naive": same,
            "big_rows": BIG_ROWS,
            "big_rows_s": round(BIG_ROWS / big_s),
            "big_rss_growth_mb": round(big_mb, 1),
            "big_file_mb": round(big_bytes / 2**20, 1),
        } | on_postgresql,
    )


if __name__ == "__main__":
    result = run()
    print(result.line())
    print(json.dumps(result.extra, indent=2))
