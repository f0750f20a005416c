"""Sync bookkeeping per resource: last success, last error, how long a tick took."""

from __future__ import annotations

from sqlmodel import Session, select

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
    return [record_from(SyncState, r) for r in session.exec(select(SyncStateRow))]
