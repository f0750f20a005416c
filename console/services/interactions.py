"""Sanitized logging of prompts and responses, with labels."""

from __future__ import annotations

from sqlalchemy import func, select

from console.services.workspace import Workspace
from store.records import Interaction
from store.tables import InteractionLabelRow, InteractionRow


def recent_interactions(ws: Workspace, limit: int = 200) -> list[Interaction]:
    with ws.session() as session:
        rows = session.execute(
            select(InteractionRow.__table__).order_by(InteractionRow.id.desc()).limit(limit)
        ).all()
        ids = [r.id for r in rows]
        labels: dict[int, dict[str, str]] = {}
        if ids:
            for iid, key, value in session.execute(
                select(
                    InteractionLabelRow.interaction_id,
                    InteractionLabelRow.key,
                    InteractionLabelRow.value,
                ).where(InteractionLabelRow.interaction_id.in_(ids))
            ):
                labels.setdefault(iid, {})[key] = value
        return [Interaction(**dict(r._mapping), labels=labels.get(r.id, {})) for r in rows]


def interaction_count(ws: Workspace) -> int:
    with ws.session() as session:
        return session.execute(select(func.count()).select_from(InteractionRow)).scalar_one()
