"""Mirrored explicit caches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from store.records import CachedContent, record_from
from store.repos.mirror import mirror
from store.tables import CachedContentRow

T = CachedContentRow.__table__


def mirror_remote(
    session: Session, rows: Sequence[dict[str, Any]], *, now: float, complete: bool = True
) -> int:
    return mirror(session, T, rows, now=now, complete=complete)


def upsert_one(session: Session, row: dict[str, Any], *, now: float) -> None:
    mirror(session, T, [row], now=now, complete=False)


def mark_gone(session: Session, name: str, *, now: float) -> None:
    session.execute(update(T).where(T.c.name == name).values(gone_at=now))


def active(session: Session, *, now: float) -> list[CachedContent]:
    query = (
        select(T)
        .where(T.c.gone_at.is_(None))
        .where((T.c.expires_at.is_(None)) | (T.c.expires_at > now))
        .order_by(T.c.created_at.desc())
    )
    return [record_from(CachedContent, dict(r._mapping)) for r in session.execute(query)]


def get(session: Session, name: str) -> CachedContent | None:
    row = session.execute(select(T).where(T.c.name == name)).first()
    return record_from(CachedContent, dict(row._mapping)) if row else None
