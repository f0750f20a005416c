"""The webhooks receiver: registered through the API, delivered to by the emulator, verified
with standardwebhooks; bad signatures, stale timestamps and oversize bodies are refused, a
repeated webhook-id is acted on once, and a batch event writes that job's results at once."""

from __future__ import annotations

import base64
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner
from standardwebhooks import Webhook

from console.bootstrap import make_workspace
from console.services import batches, webhooks
from console.services.webhooks import ReceiverServer, WebhookReceiver

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"
SECRET = "whsec_" + base64.b64encode(b"a test secret of 24 byte").decode()
OTHER = "whsec_" + base64.b64encode(b"someone else's secret!!!").decode()


def signed(body: bytes, *, secret: str = SECRET, msg_id: str = "msg_1",
           at: float | None = None) -> dict[str, str]:
    stamp = datetime.fromtimestamp(int(at if at is not None else time.time()), UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, stamp, body.decode()),
    }


def event(batch: str = "batches/abc", kind: str = "batch.succeeded") -> bytes:
    return orjson.dumps({"type": kind, "version": "v1", "timestamp": "2026-09-21T12:00:00Z",
                         "data": {"id": batch, "state": "BATCH_STATE_SUCCEEDED"}})


@pytest.fixture
def acted():
    return []


@pytest.fixture
def server(acted):
    receiver = WebhookReceiver([OTHER, SECRET], lambda name, payload: acted.append(name),
                               max_body=4096)
    running = ReceiverServer(receiver).start()
    yield running
    running.stop()


def test_a_signed_delivery_is_accepted_and_acted_on_once(server, acted):
    body = event()
    first = httpx.post(server.url, content=body, headers=signed(body))
    assert first.status_code == 200 and first.json() == {"outcome": "accepted"}
    again = httpx.post(server.url, content=body, headers=signed(body))  # the sender's retry
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    deadline = time.monotonic() + 5
    while not acted and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert acted == ["batches/abc"]


@pytest.mark.parametrize(
    ("headers", "body", "status", "outcome"),
    [
        (lambda b: signed(b, secret="whsec_" + base64.b64encode(b"x" * 24).decode()),
         event(), 401, "bad-signature"),
        (lambda b: signed(b) | {"webhook-signature": "v1,AAAA"}, event(), 401, "bad-signature"),
        (lambda b: signed(b, at=time.time() - 3600), event(), 401, "stale"),
        (lambda b: signed(b, at=time.time() + 3600), event(), 401, "stale"),
        (lambda b: {"content-type": "application/json"}, event(), 400, "malformed"),
        (lambda b: signed(b), b'{"type": "batch.succeeded", "pad": "' + b"x" * 5000 + b'"}',
         413, "too-large"),
    ],
)
def test_bad_deliveries_are_refused(server, acted, headers, body, status, outcome):
    response = httpx.post(server.url, content=body, headers=headers(body))
    assert response.status_code == status
    assert server.receiver.deliveries[-1].outcome == outcome
    time.sleep(0.05)
    assert acted == []


def test_a_tampered_body_fails_verification(server, acted):
    headers = signed(event("batches/abc"))
    response = httpx.post(server.url, content=event("batches/evil"), headers=headers)
    assert response.status_code == 401 and acted == []


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 5.0}}], indirect=True)
def test_the_emulator_delivers_and_the_job_results_are_written_at_once(settings, emulator,
                                                                         tmp_path):
    settings.gemini.base_url = emulator.base_url
    ws = make_workspace(settings)
    running = None
    try:
        # The receiver listens first; its URL is registered; the secret it gets is trusted.
        live = WebhookReceiver([], webhooks.sync_batch(ws))
        running = ReceiverServer(live).start()
        hook = webhooks.register(ws, running.url)
        assert hook["subscribed_events"] == list(webhooks.BATCH_EVENTS)
        live.trust(hook["new_signing_secret"])
        source = tmp_path / "hooked.jsonl"
        source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
        name = batches.submit_file(ws, source).drop.batch_name
        emulator.clock.advance(60)  # the job finishes; the emulator fires batch.succeeded
        results = tmp_path / "results" / "hooked.jsonl"
        deadline = time.monotonic() + 15
        while not results.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert results.exists(), live.deliveries
        assert [d.outcome for d in live.deliveries] == ["accepted"]
        assert live.deliveries[0].batch == name and live.deliveries[0].event == "batch.succeeded"
        keys = [orjson.loads(line)["key"] for line in results.read_bytes().splitlines()]
        assert keys == ["greeting", "refund-policy", "shipping", "json-answer"]
        rows = httpx.get(f"{emulator.base_url}/_emulator/webhook-deliveries").json()["deliveries"]
        assert [(d["type"], d["status"]) for d in rows] == [("batch.succeeded", "delivered")]
    finally:
        if running is not None:
            running.stop()
        if ws.connected:
            ws.gateway.flush_ledger()
        ws.close()


def test_register_writes_the_secret_to_a_private_file(settings, emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator.base_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    from console.cli import main

    secret_file = tmp_path / "hook.secret"
    result = CliRunner().invoke(main, ["webhooks", "register", "http://127.0.0.1:9/hook",
                                       "--secret-file", str(secret_file)])
    assert result.exit_code == 0, result.output
    assert "whsec_" not in result.output
    assert secret_file.read_text().startswith("whsec_")
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    listed = CliRunner().invoke(main, ["webhooks", "list"])
    assert "http://127.0.0.1:9/hook" in listed.output


@pytest.mark.parametrize("emulator_config", [{"batch": {"pending_s": 5.0}}], indirect=True)
def test_a_watched_folder_gets_its_results_on_the_webhook_not_the_poll(settings, emulator,
                                                                        tmp_path):
    from tests.e2e.test_dropfolder import Watcher, land, rest_lines, wait_for

    settings.gemini.base_url = emulator.base_url
    settings.drop.settle_ms = 50
    settings.sync.interval_s = settings.sync.fast_interval_s = 600.0  # no polling in time
    ws = make_workspace(settings)
    root = tmp_path / "drop"
    watcher = Watcher(ws, root).start()
    receiver = WebhookReceiver([], lambda name, payload: watcher.folder.job_changed(name))
    running = ReceiverServer(receiver).start()
    try:
        receiver.trust(webhooks.register(ws, running.url)["new_signing_secret"])
        land(root / "batch" / "hooked.jsonl", rest_lines("h", 12))
        wait_for(lambda: (root / "submitted" / "hooked.status.json").exists(), what="submitted")
        time.sleep(0.5)  # the poll that followed the submission has come and gone
        emulator.clock.advance(60)
        wait_for(lambda: (root / "results" / "hooked.jsonl").exists(), 15, "results")
        wait_for(lambda: orjson.loads((root / "submitted" / "hooked.status.json").read_bytes())
                 ["step"] == "done", 5, "status")
        assert "results" in watcher.kinds("results/hooked.jsonl")
    finally:
        running.stop()
        watcher.close()
        ws.gateway.flush_ledger()
        ws.close()
