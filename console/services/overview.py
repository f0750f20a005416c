"""What the overview pane shows: counts across every area, from SQLite only."""

from __future__ import annotations

from datetime import UTC, datetime

from console.services.workspace import Workspace
from store.records import Overview, SyncState
from store.repos import batches, caches, overview, sync_state


def day_start(now: float) -> float:
    """Midnight UTC of `now`'s day."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def read_overview(ws: Workspace) -> Overview:
    now = ws.clock()
    with ws.session() as session:
        return overview.counts(session, now=now, day_start=day_start(now))


def read_sync_state(ws: Workspace) -> SyncState | None:
    with ws.session() as session:
        return sync_state.get(session, "all")


def palette_targets(ws: Workspace) -> list[tuple[str, str, str]]:
    """(kind, name, label) of every batch job and live cache mirrored in SQLite: what the
    command palette can open by name."""
    with ws.session() as session:
        jobs = batches.listing(session)
        live = caches.active(session, now=ws.clock())
    found = [("batch", j.name, j.display_name.split(" gemops:", 1)[0] or j.name) for j in jobs]
    found += [("cache", c.name, c.display_name or c.name) for c in live]
    return found
