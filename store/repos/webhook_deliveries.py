"""The receiver's replay memory: which webhook-ids were handled, kept for a bounded time."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session

from store.tables import WebhookDeliveryRow


def handled(session: Session, webhook_id: str, *, since: float) -> bool:
    """True when `webhook_id` was handled at or after `since` (older rows do not count)."""
    row = session.get(WebhookDeliveryRow, webhook_id)
    return row is not None and row.handled_at >= since


def remember(session: Session, webhook_id: str, *, at: float, event: str = "",
             outcome: str = "") -> None:
    row = session.get(WebhookDeliveryRow, webhook_id) or WebhookDeliveryRow(
        webhook_id=webhook_id, handled_at=at)
    row.handled_at, row.event, row.outcome = at, event, outcome
    session.add(row)


def forget_before(session: Session, before: float) -> int:
    """Drop rows handled before `before`; returns how many went."""
    result = session.exec(
        delete(WebhookDeliveryRow).where(WebhookDeliveryRow.handled_at < before)  # type: ignore[arg-type]
    )
    return int(result.rowcount or 0)


def count(session: Session) -> int:
    from sqlalchemy import func, select

    return int(session.execute(select(func.count()).select_from(WebhookDeliveryRow)).scalar() or 0)
