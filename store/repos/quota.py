"""Shared rate budgets: lock a budget's row, read and save its state, and the sliding log.

Plain SQLAlchemy Core on a Connection (or Session) inside the caller's transaction, so the same
statements serve SQLite and PostgreSQL. A reservation holds the lock before it reads:
`begin_exclusive` takes SQLite's write lock at BEGIN, `load` the row lock on PostgreSQL
(`FOR UPDATE`), so two processes never plan from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update

from store.tables import QuotaBudgetRow, QuotaEventRow

budgets = QuotaBudgetRow.__table__
events = QuotaEventRow.__table__


@dataclass(frozen=True)
class BudgetRecord:
    project: str
    scope: str
    seq: int
    tat: float
    token_tat: float
    cool_until: float
    day: str
    day_count: int
    touched_at: float


def _key(table: Any, project: str, scope: str):
    return and_(table.c.project == project, table.c.scope == scope)


def _dialect(conn: Any) -> str:
    return (conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect).name


def _insert_ignore(conn: Any, values: dict[str, Any]) -> None:
    dialect = _dialect(conn)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:  # pragma: no cover - another backend: a plain insert (the row lock still holds)
        conn.execute(insert(budgets).values(**values))
        return
    conn.execute(dialect_insert(budgets).values(**values).on_conflict_do_nothing())


def begin_exclusive(conn: Any) -> None:
    """Start the reservation's transaction holding the write lock from its first statement.

    SQLite: `BEGIN IMMEDIATE` (waiting out busy_timeout), so a deferred read never has to be
    upgraded to a write and two processes never plan from the same state. Other backends take
    the budget's row lock in `load` (`SELECT ... FOR UPDATE`); nothing to do here.
    """
    if _dialect(conn) == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def load(conn: Any, project: str, scope: str, now: float) -> BudgetRecord:
    """The budget's row, locked for the rest of the transaction (created when new)."""
    query = select(budgets).where(_key(budgets, project, scope)).with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        _insert_ignore(conn, {"project": project, "scope": scope, "touched_at": now})
        row = conn.execute(query).one()
    return BudgetRecord(**row._mapping)


def lock(conn: Any, project: str, scope: str, now: float) -> BudgetRecord:
    """`begin_exclusive` + `load` for a caller that has not begun its transaction."""
    begin_exclusive(conn)
    return load(conn, project, scope, now)


def save(conn: Any, project: str, scope: str, *, seq: int, tat: float, token_tat: float,
         day: str, day_count: int, touched_at: float | None = None) -> None:
    values = {"seq": seq, "tat": tat, "token_tat": token_tat, "day": day, "day_count": day_count}
    if touched_at is not None:
        values["touched_at"] = touched_at
    conn.execute(update(budgets).where(_key(budgets, project, scope)).values(**values))


def cool(conn: Any, project: str, scope: str, until: float, *, exact: bool = False) -> None:
    """Move the cool-down on (never back, unless `exact`)."""
    value = until if exact else case((budgets.c.cool_until < until, until),
                                     else_=budgets.c.cool_until)
    touch = update(budgets).where(_key(budgets, project, scope)).values(cool_until=value)
    if conn.execute(touch).rowcount == 0:
        _insert_ignore(conn, {"project": project, "scope": scope, "cool_until": until})


def cool_until(conn: Any, project: str, scope: str) -> float:
    value = conn.execute(
        select(budgets.c.cool_until).where(_key(budgets, project, scope))).scalar()
    return float(value or 0.0)


def shift_token_tat(conn: Any, project: str, scope: str, seconds: float) -> None:
    conn.execute(update(budgets).where(_key(budgets, project, scope)).values(
        token_tat=budgets.c.token_tat + seconds))


def add_event(conn: Any, project: str, scope: str, seq: int, at: float, tokens: int) -> None:
    conn.execute(insert(events).values(project=project, scope=scope, seq=seq, at=at,
                                       tokens=tokens))


def answer_event(conn: Any, project: str, scope: str, seq: int, at: float, tokens: int,
                 *, counted: bool = True) -> None:
    """The answer came: its time is an upper bound on when the server counted the request.
    A request the server refused (429) did not count: it leaves the log."""
    where = and_(_key(events, project, scope), events.c.seq == seq)
    if not counted:
        conn.execute(delete(events).where(where))
        return
    conn.execute(update(events).where(where).values(
        at=case((events.c.at < at, at), else_=events.c.at), tokens=tokens))


def latest_at(conn: Any, project: str, scope: str, first_seq: int, last_seq: int
              ) -> float | None:
    value = conn.execute(select(func.max(events.c.at)).where(
        _key(events, project, scope), events.c.seq >= first_seq, events.c.seq <= last_seq,
    )).scalar()
    return None if value is None else float(value)


def window(conn: Any, project: str, scope: str, since: float) -> list[tuple[float, int]]:
    rows = conn.execute(select(events.c.at, events.c.tokens).where(
        _key(events, project, scope), events.c.at > since).order_by(events.c.at))
    return [(float(at), int(tokens)) for at, tokens in rows]


def tokens_since(conn: Any, project: str, scope: str, since: float) -> int:
    value = conn.execute(select(func.coalesce(func.sum(events.c.tokens), 0)).where(
        _key(events, project, scope), events.c.at > since)).scalar()
    return int(value or 0)


def prune(conn: Any, project: str, scope: str, below_seq: int) -> None:
    conn.execute(delete(events).where(_key(events, project, scope), events.c.seq < below_seq))


def forget_slots(conn: Any, project: str, scope: str) -> None:
    """Drop the reserved slots (not the day's count): the next request may go at once."""
    conn.execute(update(budgets).where(_key(budgets, project, scope)).values(tat=0.0,
                                                                             token_tat=0.0))
    conn.execute(delete(events).where(_key(events, project, scope)))


def all_budgets(conn: Any) -> list[BudgetRecord]:
    rows = conn.execute(select(budgets).order_by(budgets.c.project, budgets.c.scope))
    return [BudgetRecord(**row._mapping) for row in rows]
