"""What differs between SQLite and PostgreSQL in the repos' statements, chosen by the dialect of
the session or connection at hand: the upsert's INSERT and a timestamp's UTC day."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func


def name_of(session_or_conn: Any) -> str:
    """The dialect's name ("sqlite", "postgresql") of a Session, Connection or Engine."""
    dialect = getattr(session_or_conn, "dialect", None)
    if dialect is None:
        dialect = session_or_conn.get_bind().dialect
    return dialect.name


def upsert(session_or_conn: Any, table: Table) -> Any:
    """`INSERT … ON CONFLICT` for this database: the statement has `on_conflict_do_nothing`,
    `on_conflict_do_update` and `excluded` with the same spelling on both engines."""
    dialect = name_of(session_or_conn)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    raise NotImplementedError(f"no upsert for the {dialect} database")


def utc_day(session_or_conn: Any, column: Any) -> Any:
    """'YYYY-MM-DD' (UTC) of a column holding Unix seconds."""
    if name_of(session_or_conn) == "postgresql":
        return func.to_char(func.timezone("UTC", func.to_timestamp(column)), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "unixepoch")
