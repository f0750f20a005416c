"""Apps for Pilot and snapshot tests: a temp DB, a frozen clock, no network unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.bootstrap import make_app, make_workspace


@pytest.fixture
def workspace(settings, frozen_clock):
    # Paths shown on screen must not vary with tmp_path, or snapshots would.
    settings.drop.folder = Path("/srv/gemops/drop")
    ws = make_workspace(settings, clock=frozen_clock)
    yield ws
    ws.close()


@pytest.fixture
def offline_app(settings, frozen_clock, workspace):
    """The console with no connection attempt: what a user sees before the first sync."""
    return make_app(settings, clock=frozen_clock, workspace=workspace, connect=False, sync=False)


async def settle(pilot, *, rounds: int = 500) -> None:
    """Wait until the pane on screen shows what it read and no worker is left running.

    A condition, not a time: reads start after a refresh (off the first frame), so on a busy
    machine a round of waiting can come before the read exists. The pane says when every
    read it asked for has reached its widgets (`PaneScreen.settled`)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        busy = [w for w in pilot.app.workers if not w.is_finished]
        if not busy and getattr(screen, "settled", True) and tables_measured(screen):
            await pilot.wait_for_scheduled_animations()
            return
    raise AssertionError(f"the console did not settle: {pilot.app.screen!r}")


def tables_measured(screen) -> bool:
    """Every table has measured its new rows and cells: a DataTable sizes its columns when
    idle, and a screen painted before that shows columns as wide as their labels."""
    from textual.widgets import DataTable

    return not any(
        getattr(t, "_require_update_dimensions", False) or getattr(t, "_updated_cells", None)
        for t in screen.query(DataTable)
    )
