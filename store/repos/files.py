"""Mirrored Files API entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from store.records import RemoteFile, record_from
from store.repos.mirror import mirror
from store.tables import RemoteFileRow

T = RemoteFileRow.__table__


def mirror_remote(
    session: Session, rows: Sequence[dict[str, Any]], *, now: float, complete: bool = True
) -> int:
    return mirror(session, T, rows, now=now, complete=complete)


def active(session: Session) -> list[RemoteFile]:
    query = select(T).where(T.c.gone_at.is_(None)).order_by(T.c.created_at.desc())
    return [record_from(RemoteFile, dict(r._mapping)) for r in session.execute(query)]
