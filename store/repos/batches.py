"""Mirrored batch jobs, with the local annotations (drop file, results) sync must not clobber."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from store.records import BatchJob, record_from
from store.repos.mirror import mirror
from store.tables import BatchJobRow

T = BatchJobRow.__table__
LOCAL_COLUMNS = ("drop_file_id", "results_path", "results_written_at", "state_since")


def mirror_remote(
    session: Session, rows: Sequence[dict[str, Any]], *, now: float, complete: bool = True
) -> int:
    """Upsert the remote view; `state_since` moves only when the state actually changed."""
    names = [r["name"] for r in rows]
    known: dict[str, str] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        known.update(session.execute(select(T.c.name, T.c.state).where(T.c.name.in_(chunk))).all())
    gone = mirror(session, T, rows, now=now, complete=complete, keep=LOCAL_COLUMNS)
    changed = [r["name"] for r in rows if known.get(r["name"]) != r["state"]]
    for start in range(0, len(changed), 500):
        session.execute(
            update(T).where(T.c.name.in_(changed[start : start + 500])).values(state_since=now)
        )
    return gone


def annotate(session: Session, name: str, **values: Any) -> None:
    session.execute(update(T).where(T.c.name == name).values(**values))


def listing(session: Session, *, include_gone: bool = False, limit: int = 500) -> list[BatchJob]:
    query = select(T).order_by(T.c.created_at.desc()).limit(limit)
    if not include_gone:
        query = query.where(T.c.gone_at.is_(None))
    return [record_from(BatchJob, dict(r._mapping)) for r in session.execute(query)]


def get(session: Session, name: str) -> BatchJob | None:
    row = session.execute(select(T).where(T.c.name == name)).first()
    return record_from(BatchJob, dict(row._mapping)) if row else None


def running_count(session: Session) -> int:
    return session.execute(
        select(func.count())
        .select_from(T)
        .where(T.c.gone_at.is_(None), T.c.state.in_(("JOB_STATE_PENDING", "JOB_STATE_RUNNING")))
    ).scalar_one()
