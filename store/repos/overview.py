"""The overview pane's counts, read in one round trip."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from store.records import Overview

_COUNTS = text(
    """
    SELECT
      (SELECT count(*) FROM cached_contents WHERE gone_at IS NULL
         AND (expires_at IS NULL OR expires_at > :now)),
      (SELECT coalesce(sum(total_tokens), 0) FROM cached_contents WHERE gone_at IS NULL
         AND (expires_at IS NULL OR expires_at > :now)),
      (SELECT count(*) FROM batch_jobs WHERE gone_at IS NULL
         AND state IN ('JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_QUEUED')),
      (SELECT count(*) FROM batch_jobs WHERE gone_at IS NULL),
      (SELECT count(*) FROM remote_files WHERE gone_at IS NULL),
      (SELECT count(*) FROM drop_files),
      (SELECT count(*) FROM ledger WHERE at >= :day),
      (SELECT coalesce(sum(cost), 0) FROM ledger WHERE at >= :day),
      (SELECT coalesce(sum(standard_cost - cost), 0) FROM ledger WHERE at >= :day),
      (SELECT count(*) FROM interactions),
      (SELECT count(*) FROM tier_runs)
    """
)


def counts(session: Session, *, now: float, day_start: float) -> Overview:
    row = session.execute(_COUNTS, {"now": now, "day": day_start}).one()
    return Overview(
        active_caches=int(row[0]),
        cached_tokens=int(row[1]),
        running_batches=int(row[2]),
        batches_total=int(row[3]),
        files=int(row[4]),
        drop_files=int(row[5]),
        calls_today=int(row[6]),
        spend_today=float(row[7]),
        savings_today=float(row[8]),
        interactions=int(row[9]),
        tier_runs=int(row[10]),
    )
