"""Mirrored batch jobs, with the local annotations (drop file, results) sync must not clobber."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from store.records import BatchJob, record_from
from store.repos.mirror import mirror
from store.tables import BatchJobRow, LedgerEntry

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


TERMINAL_STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED",
                   "JOB_STATE_EXPIRED")


def record_created(session: Session, row: dict[str, Any], *, now: float, **local: Any) -> None:
    """A job gemops just created: mirrored at once (not at the next sync), with its local
    annotations (the drop file it came from, where its results go)."""
    mirror_remote(session, [row], now=now, complete=False)
    if local:
        annotate(session, row["name"], **local)


def awaiting_results(session: Session, names: Sequence[str] | None = None) -> list[BatchJob]:
    """Finished jobs that gemops submitted (so it knows where results go) not yet written."""
    query = (
        select(T)
        .where(
            T.c.state.in_(TERMINAL_STATES),
            T.c.results_path.is_not(None),
            T.c.results_written_at.is_(None),
        )
        .order_by(T.c.ended_at)
    )
    if names is not None:
        query = query.where(T.c.name.in_(list(names)))
    return [record_from(BatchJob, dict(r._mapping)) for r in session.execute(query)]


def ledgered_keys(session: Session, prefix: str) -> set[str]:
    """Request keys already booked as batch results under `prefix` (a job's name): a restart
    that writes the same results again must not book their cost twice."""
    ledger = LedgerEntry.__table__
    query = select(ledger.c.request_key).where(
        ledger.c.operation == "batch_result",
        ledger.c.request_key.startswith(prefix, autoescape=True),
    )
    return {key for (key,) in session.execute(query)}
