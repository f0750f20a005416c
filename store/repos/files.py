"""Mirrored Files API entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from store.records import RemoteFile, record_from
from store.repos.mirror import mirror
from store.tables import RemoteFileRow

T = RemoteFileRow.__table__


def mirror_remote(
    session: Session, rows: Sequence[dict[str, Any]], *, now: float, complete: bool = True
) -> int:
    return mirror(session, T, rows, now=now, complete=complete)


def upsert_one(session: Session, row: dict[str, Any], *, now: float) -> None:
    """A file this console just uploaded, recorded before the next sync lists it."""
    mirror(session, T, [row], now=now, complete=False)


def mark_gone(session: Session, name: str, *, now: float) -> None:
    session.execute(update(T).where(T.c.name == name, T.c.gone_at.is_(None)).values(gone_at=now))


def active(session: Session) -> list[RemoteFile]:
    query = select(T).where(T.c.gone_at.is_(None)).order_by(T.c.created_at.desc())
    return [record_from(RemoteFile, dict(r._mapping)) for r in session.execute(query)]


def get(session: Session, name: str) -> RemoteFile | None:
    row = session.execute(select(T).where(T.c.name == name)).first()
    return record_from(RemoteFile, dict(row._mapping)) if row else None
