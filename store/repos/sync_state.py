"""Sync bookkeeping: per resource the last success, the last error and how long a tick took;
and what a mirrored table holds now, so a tick writes only the rows that changed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Table, select, update
from sqlmodel import Session, SQLModel
from sqlmodel import select as sqlmodel_select

from store.records import SyncState, record_from
from store.tables import SyncStateRow


def record_success(session: Session, resource: str, *, at: float, duration_ms: float) -> None:
    row = session.get(SyncStateRow, resource) or SyncStateRow(resource=resource)
    row.last_attempt_at = at
    row.last_success_at = at
    row.last_duration_ms = duration_ms
    row.consecutive_errors = 0
    session.add(row)


def record_error(session: Session, resource: str, *, at: float, error: str) -> None:
    row = session.get(SyncStateRow, resource) or SyncStateRow(resource=resource)
    row.last_attempt_at = at
    row.last_error = error
    row.last_error_at = at
    row.consecutive_errors = (row.consecutive_errors or 0) + 1
    session.add(row)


def get(session: Session, resource: str) -> SyncState | None:
    row = session.get(SyncStateRow, resource)
    return record_from(SyncState, row) if row else None


def all_states(session: Session) -> list[SyncState]:
    return [record_from(SyncState, r) for r in session.exec(sqlmodel_select(SyncStateRow))]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def live_snapshot(
    session: Session, table: str, columns: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """`name -> (columns...)` for every row of a mirrored table not marked gone."""
    t = _table(table)
    query = select(t.c.name, *(t.c[c] for c in columns)).where(t.c.gone_at.is_(None))
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def mark_gone(session: Session, table: str, names: Collection[str], *, now: float) -> int:
    """Stamp `gone_at` on rows the remote listing no longer has (they are never deleted)."""
    t = _table(table)
    names = list(names)
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        session.execute(update(t).where(t.c.name.in_(chunk)).values(gone_at=now))
    return len(names)
