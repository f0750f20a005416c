"""One sync service and one results writer: the console's sync (SyncLoop with collect), the
drop folder's tick and the webhook receiver's action all write batch results through
batches.collect_finished — the function holding the per-job results lease."""

from __future__ import annotations

import pytest

from console.bootstrap import make_workspace
from console.commands.caches import close
from console.services import batches as batch_service
from console.services import dropfolder, webhooks
from console.services.sync import SyncLoop


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time."""


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    workspace = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    yield workspace
    close(workspace)


@pytest.fixture
def writes(monkeypatch):
    calls: list[list[str] | None] = []

    def spy(ws, names=None):
        calls.append(list(names) if names is not None else None)
        return []

    monkeypatch.setattr(batch_service, "collect_finished", spy)
    return calls


def test_the_console_sync_writes_results_after_a_good_tick_only(ws, writes, emulator):
    loop = SyncLoop(ws, collect=True)
    result = loop.tick()
    assert result is not None and result.ok and writes == [None]
    assert SyncLoop(ws).tick() is not None and writes == [None]  # `gemops sync`: no writing
    emulator.stop()  # offline: nothing listed, nothing written
    offline = loop.tick()
    assert offline is not None and offline.error and writes == [None]


def test_a_failing_writer_is_reported_on_the_tick_not_raised(ws, monkeypatch):
    def broken(ws, names=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batch_service, "collect_finished", broken)
    result = SyncLoop(ws, collect=True).tick()
    assert result is not None and result.ok
    assert result.collect_error == "RuntimeError: disk on fire" and result.written == ()


def test_the_drop_folder_syncs_and_writes_through_the_same_service(ws, writes, tmp_path,
                                                                   monkeypatch):
    folder = dropfolder.DropFolder(ws, tmp_path / "drop")
    try:
        # One of this folder's jobs is out: the tick syncs, then writes what finished.
        out = object()
        monkeypatch.setattr(dropfolder.drops, "with_steps", lambda session, steps, under: (
            [out] if steps == (batch_service.SUBMITTED,) else []))
        assert folder.tick() == []
        assert writes == [None] and folder._sync.collect and folder._sync.last.ok
        assert folder.interval() == ws.settings.sync.fast_interval_s  # a job is out
    finally:
        folder.release()


def test_a_webhook_writes_that_jobs_results_through_the_same_writer(ws, writes):
    gateway = ws.gateway
    job = gateway.run(gateway.create_batch("gemini-2.5-flash", [
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "metadata": {"key": "k"}}],
        {"display_name": "hooked"}))
    webhooks.sync_batch(ws)(job.name, {"type": "batch.succeeded"})
    assert writes == [[job.name]]
