"""Drop-folder claims (one row per file content, the exactly-once record) and their events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from store.records import DropEvent, DropFile, record_from
from store.tables import DropEventRow, DropFileRow

T = DropFileRow.__table__
E = DropEventRow.__table__


def claim(
    session: Session, *, content_hash: str, name: str, path: str, route: str, step: str,
    now: float,
) -> tuple[DropFile, bool]:
    """Claim a content hash: (the claim, True) when this call made it, (the existing claim,
    False) when someone already had. The UNIQUE index decides, so two processes racing for
    the same content cannot both win."""
    statement = sqlite_insert(T).values(
        content_hash=content_hash, name=name, path=path, route=route, step=step,
        claimed_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["content_hash"])
    made = session.execute(statement).rowcount == 1
    row = session.execute(select(T).where(T.c.content_hash == content_hash)).one()
    return record_from(DropFile, dict(row._mapping)), made


def reclaim(
    session: Session, drop_id: int, *, name: str, path: str, route: str, step: str, now: float
) -> DropFile:
    """Start a rejected or failed claim over (its content was dropped again)."""
    session.execute(
        update(T).where(T.c.id == drop_id).values(
            name=name, path=path, route=route, step=step, request_count=0, done_requests=0,
            remote_file=None, batch_name=None, error=None, claimed_at=now, updated_at=now,
            finished_at=None,
        )
    )
    return get(session, drop_id)  # type: ignore[return-value]


def advance(session: Session, drop_id: int, *, now: float, **values: Any) -> DropFile:
    """Record what happened to a claim (its step and whatever it learnt on the way)."""
    session.execute(update(T).where(T.c.id == drop_id).values(updated_at=now, **values))
    return get(session, drop_id)  # type: ignore[return-value]


def get(session: Session, drop_id: int) -> DropFile | None:
    row = session.execute(select(T).where(T.c.id == drop_id)).first()
    return record_from(DropFile, dict(row._mapping)) if row else None


def by_hash(session: Session, content_hash: str) -> DropFile | None:
    row = session.execute(select(T).where(T.c.content_hash == content_hash)).first()
    return record_from(DropFile, dict(row._mapping)) if row else None


def with_steps(
    session: Session, steps: Iterable[str], *, under: str | None = None
) -> list[DropFile]:
    """Claims in any of `steps`, oldest first; `under` keeps those whose file is in a folder."""
    query = select(T).where(T.c.step.in_(list(steps))).order_by(T.c.id)
    if under is not None:
        query = query.where(T.c.path.startswith(under.rstrip("/") + "/", autoescape=True))
    return [record_from(DropFile, dict(r._mapping)) for r in session.execute(query)]


def recent(session: Session, *, limit: int = 200) -> list[DropFile]:
    query = select(T).order_by(T.c.updated_at.desc(), T.c.id.desc()).limit(limit)
    return [record_from(DropFile, dict(r._mapping)) for r in session.execute(query)]


def add_event(
    session: Session, *, at: float, kind: str, path: str, detail: str = "",
    drop_file_id: int | None = None,
) -> None:
    session.execute(
        E.insert().values(drop_file_id=drop_file_id, at=at, kind=kind, path=path, detail=detail)
    )


def recent_events(session: Session, *, limit: int = 200) -> list[DropEvent]:
    query = select(E).order_by(E.c.at.desc(), E.c.id.desc()).limit(limit)
    return [record_from(DropEvent, dict(r._mapping)) for r in session.execute(query)]


def name_taken(session: Session, name: str, *, under: str) -> bool:
    """Whether a claim of a file in `under` already uses `name` (outcome files are named by it)."""
    query = select(T.c.id).where(
        T.c.name == name, T.c.path.startswith(under.rstrip("/") + "/", autoescape=True)
    )
    return session.execute(query.limit(1)).first() is not None
