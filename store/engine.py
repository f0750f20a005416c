"""make_engine(): one engine per database, with the SQLite pragmas set on every connection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

BUSY_TIMEOUT_MS = 5_000


class StoreError(RuntimeError):
    """The database cannot be opened or used as it is; the message says why, for a person."""


def _sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite creates it 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # WAL with synchronous=NORMAL is durable across application crashes, and much faster.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(path_or_url: str | Path) -> Engine:
    """An engine for a SQLite file path, or any SQLAlchemy URL (e.g. PostgreSQL for a team)."""
    text = str(path_or_url)
    if "://" not in text:
        path = Path(text).expanduser()
        _sqlite_file(path)
        text = f"sqlite:///{path}"
    elif text.startswith("sqlite:///") and text != "sqlite:///:memory:":
        _sqlite_file(Path(text.removeprefix("sqlite:///")))
    if text.startswith("sqlite"):
        engine = create_engine(text, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(text, pool_pre_ping=True)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One session per unit of work: committed on success, rolled back on error, always closed."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Store:
    """An open, migrated database: hand it to services; they open one session per unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, path_or_url: str | Path) -> Store:
        from sqlalchemy.exc import DatabaseError

        from store.migrations import migrate

        try:
            engine = make_engine(path_or_url)
        except OSError as error:
            raise StoreError(_describe_os_error(path_or_url, error)) from error
        try:
            migrate(engine)
        except DatabaseError as error:
            engine.dispose()
            raise StoreError(describe_database_error(path_or_url, error)) from error
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def session(self):
        return unit_of_work(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def _where(path_or_url: str | Path) -> str:
    text = str(path_or_url)
    return text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text


def _describe_os_error(path_or_url: str | Path, error: OSError) -> str:
    where = _where(path_or_url)
    if isinstance(error, PermissionError):
        return (f"cannot write the database {where}: permission denied in "
                f"{Path(where).parent} (a read-only data folder? set GEMOPS_STORE__PATH "
                "to a writable place)")
    return f"cannot open the database {where}: {error.strerror or error}"


def describe_database_error(path_or_url: str | Path, error: BaseException) -> str:
    """A SQLite failure on open, in one line that says what to do about it."""
    where = _where(path_or_url)
    cause = str(getattr(error, "orig", None) or error).splitlines()[0]
    lowered = cause.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return (f"{where} is not a usable gemops database ({cause}); move it aside and "
                "gemops starts a new one")
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return (f"cannot write the database {where} ({cause}): is its folder read-only? "
                "set GEMOPS_STORE__PATH to a writable place")
    return f"the database {where} cannot be used: {cause}"
