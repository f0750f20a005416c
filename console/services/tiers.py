"""Tier tester runs and their statistics."""

from __future__ import annotations

from sqlalchemy import select

from console.services.workspace import Workspace
from store.records import TierRun, record_from
from store.tables import TierRunRow


def past_runs(ws: Workspace, limit: int = 50) -> list[TierRun]:
    with ws.session() as session:
        rows = session.execute(
            select(TierRunRow.__table__).order_by(TierRunRow.id.desc()).limit(limit)
        )
        return [record_from(TierRun, dict(r._mapping)) for r in rows]
