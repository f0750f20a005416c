"""Mirrored batch jobs, with the local annotations (drop file, results) sync must not clobber."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from store.records import BatchJob, record_from
from store.repos.mirror import mirror
from store.tables import BatchJobRow, LedgerEntry

T = BatchJobRow.__table__
LOCAL_COLUMNS = ("drop_file_id", "results_path", "results_written_at", "state_since",
                 "results_owner", "results_lease_until")


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


# -- the results lease: one process writes a finished job's results at a time ------------------


def take_results(session: Session, name: str, *, owner: str, now: float, until: float,
                 stale: str | None = None) -> bool:
    """Lease the writing of a job's results to `owner` until `until`, if they are not written
    yet and nobody holds a live lease on them (or its holder is `stale`, known dead). One
    conditional UPDATE: of two processes racing for the same job, one wins. Not re-entrant:
    an owner that already holds the lease does not take it again."""
    free = or_(T.c.results_lease_until.is_(None), T.c.results_lease_until <= now)
    if stale is not None:
        free = or_(free, T.c.results_owner == stale)
    statement = (
        update(T)
        .where(T.c.name == name, T.c.results_written_at.is_(None), free)
        .values(results_owner=owner, results_lease_until=until)
    )
    return session.execute(statement).rowcount == 1


def results_holder(session: Session, name: str) -> tuple[str | None, float | None]:
    """Who holds the lease on writing a job's results, and until when."""
    row = session.execute(
        select(T.c.results_owner, T.c.results_lease_until).where(T.c.name == name)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def renew_results(session: Session, name: str, *, owner: str, until: float) -> bool:
    """Push `owner`'s lease on a job's results on; False when it no longer holds it."""
    statement = (
        update(T)
        .where(T.c.name == name, T.c.results_owner == owner, T.c.results_written_at.is_(None))
        .values(results_lease_until=until)
    )
    return session.execute(statement).rowcount == 1


def results_done(session: Session, name: str, *, now: float) -> None:
    """The results are written: recorded, and the lease given up (whoever holds it)."""
    session.execute(
        update(T)
        .where(T.c.name == name)
        .values(results_written_at=now, results_owner=None, results_lease_until=None)
    )


def let_go_results(session: Session, name: str, *, owner: str) -> None:
    """Give the lease up without writing (a download failed): anyone may try again."""
    session.execute(
        update(T)
        .where(T.c.name == name, T.c.results_owner == owner)
        .values(results_owner=None, results_lease_until=None)
    )
