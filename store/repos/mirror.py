"""Mirror a remote listing into a table: upsert what is seen, mark gone what is not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, case, update
from sqlmodel import Session

from store.repos import dialect


def mirror(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    now: float,
    complete: bool = True,
    keep: Sequence[str] = (),
) -> int:
    """Upsert `rows` (keyed by `name`; `now` is when the listing was asked for) and, when the
    listing was complete, stamp `gone_at` on rows no longer listed. Columns in `keep` are never
    overwritten by the remote view (local annotations such as where results were written).
    Returns how many rows became gone."""
    if rows:
        statement = dialect.upsert(session, table)
        local = set(keep) | {"name"}
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={
                c.name: statement.excluded[c.name]
                for c in table.columns
                if c.name not in local and c.name in rows[0]
            }
            # A listing taken before a row was deleted here (a sync tick racing a delete)
            # must not bring the row back: only rows gone before `now` are seen again.
            | {"gone_at": case((table.c.gone_at >= now, table.c.gone_at), else_=None)},
        )
        session.execute(statement, [dict(row, synced_at=now) for row in rows])
    if not complete:
        return 0
    seen = {row["name"] for row in rows}
    live = session.execute(
        table.select().with_only_columns(table.c.name).where(table.c.gone_at.is_(None))
    ).scalars()
    vanished = [name for name in live if name not in seen]
    for start in range(0, len(vanished), 500):
        session.execute(
            update(table).where(table.c.name.in_(vanished[start : start + 500])).values(gone_at=now)
        )
    return len(vanished)
