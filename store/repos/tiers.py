"""Tier tester runs and their samples: one sample row per request, written as it arrives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlmodel import Session

from store.records import TierRun, TierSample, record_from
from store.tables import LedgerEntry, TierRunRow, TierSampleRow

RUNS = TierRunRow.__table__
SAMPLES = TierSampleRow.__table__
LEDGER = LedgerEntry.__table__


def create_run(session: Session, values: Mapping[str, Any]) -> TierRun:
    run_id = session.execute(insert(RUNS).values(**values)).inserted_primary_key[0]
    return get_run(session, run_id)  # type: ignore[return-value]


def get_run(session: Session, run_id: int) -> TierRun | None:
    row = session.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
    return record_from(TierRun, dict(row._mapping)) if row else None


def finish_run(
    session: Session, run_id: int, *, status: str, finished_at: float, note: str | None = None
) -> None:
    session.execute(
        update(RUNS)
        .where(RUNS.c.id == run_id)
        .values(status=status, finished_at=finished_at, note=note)
    )


def add_sample(session: Session, values: Mapping[str, Any]) -> TierSample:
    sample_id = session.execute(insert(SAMPLES).values(**values)).inserted_primary_key[0]
    row = session.execute(select(SAMPLES).where(SAMPLES.c.id == sample_id)).one()
    return record_from(TierSample, dict(row._mapping))


def samples(session: Session, run_id: int) -> list[TierSample]:
    """A run's samples in the order they finished."""
    query = select(SAMPLES).where(SAMPLES.c.run_id == run_id).order_by(SAMPLES.c.id)
    return [record_from(TierSample, dict(r._mapping)) for r in session.execute(query)]


def recent(session: Session, limit: int = 50) -> list[TierRun]:
    query = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit)
    return [record_from(TierRun, dict(r._mapping)) for r in session.execute(query)]


def sample_counts(session: Session, run_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """{run id: (samples recorded, samples ok)}; runs with no samples are absent."""
    ids = list(run_ids)
    if not ids:
        return {}
    query = (
        select(SAMPLES.c.run_id, func.count(),
               func.coalesce(func.sum(case((SAMPLES.c.ok.is_(True), 1), else_=0)), 0))
        .where(SAMPLES.c.run_id.in_(ids))
        .group_by(SAMPLES.c.run_id)
    )
    return {int(run): (int(n), int(ok)) for run, n, ok in session.execute(query)}


def running(session: Session) -> list[tuple[TierRun, float]]:
    """Runs still marked running, each with its last sign of life (last sample or start)."""
    last = (
        select(SAMPLES.c.run_id, func.max(SAMPLES.c.at).label("last_at"))
        .group_by(SAMPLES.c.run_id)
        .subquery()
    )
    query = (
        select(RUNS, last.c.last_at)
        .outerjoin(last, last.c.run_id == RUNS.c.id)
        .where(RUNS.c.status == "running")
    )
    found = []
    for row in session.execute(query):
        values = dict(row._mapping)
        last_at = values.pop("last_at")
        run = record_from(TierRun, values)
        found.append((run, max(run.created_at, last_at or run.created_at)))
    return found


def ledger_attempts(session: Session, request_key: str) -> int:
    """How many generate attempts the ledger holds for one request key (one row per attempt)."""
    query = select(func.count()).select_from(LEDGER).where(
        LEDGER.c.request_key == request_key, LEDGER.c.operation == "generate"
    )
    return int(session.execute(query).scalar_one())


def delete_run(session: Session, run_id: int) -> bool:
    """Delete a run; its samples go with it (ON DELETE CASCADE)."""
    return session.execute(delete(RUNS).where(RUNS.c.id == run_id)).rowcount > 0
