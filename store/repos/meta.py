"""Small key/value facts about this installation (e.g. whether sample data was offered)."""

from __future__ import annotations

from sqlmodel import Session

from store.tables import MetaRow


def get(session: Session, key: str) -> str | None:
    row = session.get(MetaRow, key)
    return row.value if row else None


def put(session: Session, key: str, value: str) -> None:
    row = session.get(MetaRow, key) or MetaRow(key=key, value=value)
    row.value = value
    session.add(row)
