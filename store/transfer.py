"""Copy every row of one gemops database into another (a local SQLite file into the team's
PostgreSQL): both migrated to the same version, tables in foreign-key order, ids kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.engine import StoreError

CHUNK = 2_000


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def copy_rows(source: Engine, target: Engine, *, chunk: int = CHUNK,
              progress: Callable[[Copied], None] | None = None) -> list[Copied]:
    """Copy all rows from `source` into `target` (both migrated to the latest version). The
    target must hold no rows yet: merging two ledgers is not a copy. One transaction, so a
    failure leaves the target as it was."""
    tables = SQLModel.metadata.sorted_tables
    with target.connect() as conn:
        busy = [t.name for t in tables
                if conn.execute(select(func.count()).select_from(t)).scalar_one()]
    if busy:
        raise StoreError(f"the target database already has rows in {', '.join(busy)}: "
                         "copy into a new, empty database")
    done: list[Copied] = []
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            n = 0
            result = src.execution_options(yield_per=chunk).execute(select(table))
            for rows in result.partitions():
                dst.execute(table.insert(), [dict(r._mapping) for r in rows])
                n += len(rows)
            done.append(Copied(table.name, n))
            if progress:
                progress(done[-1])
        if dst.dialect.name == "postgresql":
            _restart_identities(dst)
    return done


def _restart_identities(conn) -> None:
    """Ids were copied as they were: number new rows after the highest one."""
    for table in SQLModel.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                {"t": table.name}).scalar()
        if sequence:
            conn.execute(text(f"SELECT setval(:s, coalesce((SELECT max(id) FROM {table.name}), 0)"
                              " + 1, false)"), {"s": sequence})
