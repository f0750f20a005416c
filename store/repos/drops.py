"""Drop-folder claims (one row per file content, the exactly-once record) and their events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session

from store.records import DropEvent, DropFile, record_from
from store.repos import dialect
from store.tables import DropEventRow, DropFileRow

T = DropFileRow.__table__
E = DropEventRow.__table__


def claim(
    session: Session, *, content_hash: str, name: str, path: str, route: str, step: str,
    now: float, owner: str | None = None, lease_until: float = 0.0,
) -> tuple[DropFile, bool]:
    """Claim a content hash: (the claim, True) when this call made it, (the existing claim,
    False) when someone already had. The UNIQUE index decides, so two processes racing for
    the same content cannot both win (on one SQLite file or on a team's PostgreSQL). The
    claim is made already leased to `owner` until `lease_until`."""
    statement = dialect.upsert(session, T).values(
        content_hash=content_hash, name=name, path=path, route=route, step=step,
        claimed_at=now, updated_at=now, owner=owner, lease_until=lease_until,
    ).on_conflict_do_nothing(index_elements=["content_hash"]).returning(T.c.id)
    # The returned row says who won (rowcount is -1 on PostgreSQL for an INSERT … RETURNING).
    made = session.execute(statement).first() is not None
    row = session.execute(select(T).where(T.c.content_hash == content_hash)).one()
    return record_from(DropFile, dict(row._mapping)), made


def reclaim(
    session: Session, drop_id: int, *, name: str, path: str, route: str, step: str, now: float,
    owner: str | None = None, lease_until: float = 0.0, was: str | None = None,
) -> DropFile | None:
    """Start a rejected or failed claim over (its content was dropped again). With `was`, only
    if the claim is still in that step (None: another watcher started it over first)."""
    statement = update(T).where(T.c.id == drop_id)
    if was is not None:
        statement = statement.where(T.c.step == was)
    done = session.execute(
        statement.values(
            name=name, path=path, route=route, step=step, request_count=0, done_requests=0,
            remote_file=None, batch_name=None, error=None, claimed_at=now, updated_at=now,
            finished_at=None, owner=owner, lease_until=lease_until,
        )
    ).rowcount
    return get(session, drop_id) if done else None


# -- leases: several watchers on one shared store ------------------------------------------------


def take(session: Session, drop_id: int, *, owner: str, now: float, until: float,
         stale: str | None = None) -> bool:
    """Lease a claim to `owner` until `until` if nobody else holds a live lease on it (or the
    holder is `stale`, known dead). One UPDATE: of two watchers racing, one wins."""
    free = or_(T.c.owner.is_(None), T.c.owner == owner, T.c.lease_until <= now)
    if stale is not None:
        free = or_(free, T.c.owner == stale)
    statement = update(T).where(T.c.id == drop_id, free).values(owner=owner, lease_until=until)
    return session.execute(statement).rowcount == 1


def renew(session: Session, drop_ids: Iterable[int], *, owner: str, until: float) -> int:
    """The heartbeat: push on the leases `owner` still holds; returns how many it holds."""
    ids = list(drop_ids)
    if not ids:
        return 0
    statement = update(T).where(T.c.id.in_(ids), T.c.owner == owner).values(lease_until=until)
    return session.execute(statement).rowcount


def let_go(session: Session, drop_id: int, *, owner: str) -> None:
    """Give a claim's lease up (its step is recorded: anyone may carry on from it)."""
    session.execute(update(T).where(T.c.id == drop_id, T.c.owner == owner)
                    .values(owner=None, lease_until=0.0))


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
