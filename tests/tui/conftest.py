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


async def settle(pilot) -> None:
    """Wait for the workers a pane started and for their results to reach the widgets.

    Reads start after a refresh (off the first frame), so one round of waiting can come
    before the worker exists: wait until a round finds nothing left to run."""
    for _ in range(10):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if not w.is_finished]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not busy and not [w for w in pilot.app.workers if not w.is_finished]:
            return
