"""Calls in flight: the gateway's write-ahead, and booking an answer with the ledger row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from store.tables import CallInFlightRow, LedgerEntry

T = CallInFlightRow.__table__
LEDGER = LedgerEntry.__table__

INTERRUPTED = ("interrupted: the process stopped while this call was in flight; its answer "
               "was lost and it may have been billed (input cost estimated)")


def sending(session: Session, call: dict[str, Any]) -> int:
    return int(session.execute(insert(T).values(**call)).inserted_primary_key[0])


def answered(session: Session, call_id: int | None, rows: Sequence[dict[str, Any]]) -> None:
    """Book the answer (or failure) in the ledger and drop the write-ahead: one transaction."""
    if rows:
        session.execute(insert(LEDGER), list(rows))
    if call_id is not None:
        session.execute(delete(T).where(T.c.id == call_id))


def book_interrupted(session: Session, alive: Callable[[str], bool],
                     ledger_defaults: dict[str, Any]) -> list[str | None]:
    """Calls left in flight by processes that are gone become ledger rows (status 0) with their
    estimated input cost; returns their request keys."""
    orphans = [dict(r._mapping) for r in session.execute(select(T))
               if not alive(r.owner)]
    if not orphans:
        return []
    session.execute(insert(LEDGER), [
        ledger_defaults | {
            "at": o["at"], "model": o["model"], "operation": o["operation"],
            "tier_asked": o["tier_asked"], "source": o["source"],
            "request_key": o["request_key"], "attempt": o["attempt"],
            "prompt_tokens": o["prompt_tokens"], "total_tokens": o["prompt_tokens"],
            "status": 0, "error": INTERRUPTED, "cost": o["estimated_cost"],
            "standard_cost": o["estimated_cost"],
        }
        for o in orphans
    ])
    session.execute(delete(T).where(T.c.id.in_([o["id"] for o in orphans])))
    return [o["request_key"] for o in orphans]


def in_flight(session: Session) -> int:
    return len(session.execute(select(T.c.id)).all())
