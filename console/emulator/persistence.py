"""Optional SQLite persistence (`--state FILE`): one JSON blob per resource, file bytes apart."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, name TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class Persistence:
    """Write-through store; every mutation of a resource rewrites that resource's row."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The server loop and a test thread may both touch it; one lock serialises them.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def put(self, kind: str, name: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO resources (kind, name, body) VALUES (?, ?, ?)",
                (kind, name, orjson.dumps(body)),
            )

    def delete(self, kind: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM resources WHERE kind = ? AND name = ?", (kind, name))

    def load(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM resources WHERE kind = ? ORDER BY rowid", (kind,)
            ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def put_blob(self, name: str, data: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO blobs (name, data) VALUES (?, ?)", (name, data)
            )

    def get_blob(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM blobs WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row else None

    def delete_blob(self, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM blobs WHERE name = ?", (name,))

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, orjson.dumps(value))
            )

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else default

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM resources; DELETE FROM blobs; DELETE FROM meta;")

    def close(self) -> None:
        with self._lock:
            self._db.close()
