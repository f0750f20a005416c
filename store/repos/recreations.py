"""Stuck batch jobs cancelled and submitted again: one row per old job, so never twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session

from store.records import record_from
from store.tables import BatchRecreationRow

T = BatchRecreationRow.__table__


@dataclass(frozen=True, slots=True)
class Recreation:
    old_name: str
    new_name: str | None
    drop_file_id: int | None
    step: str
    reason: str
    error: str | None
    at: float
    finished_at: float | None


def involving(session: Session, name: str) -> Recreation | None:
    """The recreation `name` was cancelled for, or was made by."""
    row = session.execute(
        select(T).where(or_(T.c.old_name == name, T.c.new_name == name))).first()
    return record_from(Recreation, dict(row._mapping)) if row else None


def for_drop(session: Session, drop_file_id: int) -> Recreation | None:
    row = session.execute(select(T).where(T.c.drop_file_id == drop_file_id)).first()
    return record_from(Recreation, dict(row._mapping)) if row else None


def start(session: Session, *, old_name: str, drop_file_id: int | None, reason: str,
          now: float) -> None:
    session.execute(insert(T).values(old_name=old_name, drop_file_id=drop_file_id,
                                     step="cancelling", reason=reason, at=now))


def advance(session: Session, old_name: str, **values: Any) -> None:
    session.execute(update(T).where(T.c.old_name == old_name).values(**values))


def unfinished(session: Session) -> list[Recreation]:
    rows = session.execute(select(T).where(T.c.step != "done").order_by(T.c.at))
    return [record_from(Recreation, dict(r._mapping)) for r in rows]


def links(session: Session) -> dict[str, str]:
    """job name -> what it is linked to, for the batch pane."""
    out: dict[str, str] = {}
    for row in session.execute(select(T.c.old_name, T.c.new_name, T.c.step)):
        if row.new_name:
            out[row.old_name] = f"recreated as {row.new_name} (stuck in PENDING)"
            out[row.new_name] = f"recreation of {row.old_name}"
        else:
            out[row.old_name] = f"being recreated ({row.step})"
    return out
