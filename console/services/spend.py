"""Actual spend and savings from the ledger, grouped by model, tier, day or mode."""

from __future__ import annotations

from console.services.overview import day_start
from console.services.workspace import Workspace
from store.repos import ledger
from store.repos.ledger import Grouping, SpendRow


def spend(ws: Workspace, *, since: float, until: float | None = None, by: Grouping = "model"):
    with ws.session() as session:
        return ledger.spend(session, since=since, until=until, by=by)


def spend_today_and_week(ws: Workspace, by: Grouping = "model") -> tuple[list[SpendRow], list[SpendRow]]:
    now = ws.clock()
    today = day_start(now)
    return spend(ws, since=today, by=by), spend(ws, since=today - 6 * 86_400, by=by)
