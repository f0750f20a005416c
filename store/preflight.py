"""A look at the database file before the console opens, with the standard library only (no
SQLAlchemy on the path to the first frame): problems that would leave the console empty are
said as one line instead."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

_STEP = re.compile(r"^m(\d{4})_\w+\.py$")
_HEADER = b"SQLite format 3\x00"


def latest_version() -> int:
    """The newest migration step, read from the step files' names."""
    folder = Path(__file__).with_name("migrations")
    found = [int(m.group(1)) for p in folder.iterdir() if (m := _STEP.match(p.name))]
    return max(found, default=0)


def problem(path: Path) -> str | None:
    """Why the SQLite file at `path` cannot serve this gemops, or None when it can (or does not
    exist yet and its folder can take it)."""
    if not path.exists():
        folder = next((p for p in path.parents if p.exists()), None)
        if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot create the database: {folder} is read-only for gemops"
        return None
    if path.is_dir():
        return f"{path} is a folder, not a gemops database"
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_HEADER))
    except OSError as error:
        return f"cannot read the database {path}: {error.strerror or error}"
    if header and header != _HEADER:
        return (f"{path} is not a usable gemops database (not an SQLite file); "
                "move it aside and gemops starts a new one")
    if not header:
        return None  # created empty: the migrations fill it
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as error:
        return f"{path} is not a usable gemops database ({error}); move it aside"
    if version > latest_version():
        return (f"{path}: its schema ({version}) is newer than this gemops "
                f"({latest_version()}); upgrade gemops to open it")
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        return f"the database {path} or its folder is read-only; gemops needs to write there"
    return None
