"""The webhooks receiver: registered through the API, delivered to by the emulator, verified
with standardwebhooks; bad signatures, stale timestamps and oversize bodies are refused, a
signed body of the wrong shape is a 400, a repeated webhook-id is acted on once (remembered
only once handled, in SQLite across a restart), only batch events act, and a batch event
writes that job's results at once."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import stat
import threading
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
from console.services.webhooks import (
    REMEMBER_S,
    ReceiverServer,
    StoredDeliveries,
    WebhookReceiver,
)

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


def event(batch: object = "batches/abc", kind: str = "batch.succeeded") -> bytes:
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
    # Handled before the answer went out: acted on already, nothing left to wait for.
    assert acted == ["batches/abc"]
    again = httpx.post(server.url, content=body, headers=signed(body))  # the sender's retry
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
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
    assert acted == []  # refused deliveries are never dispatched (handling is in-request)


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
        # The delivery is recorded once handled (the results written): wait for both.
        while not (results.exists() and live.deliveries) and time.monotonic() < deadline:
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
    from tests.e2e.test_dropfolder import Watcher, land, logged, rest_lines, wait_for

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
        # The poll that followed the submission has listed the job (still pending); the next
        # is 600 s away, so the results can only come from the webhook.
        wait_for(lambda: logged(emulator, "batches.list"), 15, "the poll after submitting")
        emulator.clock.advance(60)
        wait_for(lambda: (root / "results" / "hooked.jsonl").exists(), 15, "results")
        wait_for(lambda: orjson.loads((root / "submitted" / "hooked.status.json").read_bytes())
                 ["step"] == "done", 5, "status")
        assert "results" in watcher.kinds("results/hooked.jsonl")
        assert [d.outcome for d in receiver.deliveries] == ["accepted"]
        assert len(logged(emulator, "batches.list")) == 1  # no poll came between
    finally:
        running.stop()
        watcher.close()
        ws.gateway.flush_ledger()
        ws.close()


# -- what the issue found: shape, remembering only once handled, event types, restarts ----


def test_a_signed_body_whose_batch_id_is_not_a_string_is_a_400_and_not_remembered(server,
                                                                                   acted):
    bad = event(batch=12345)
    response = httpx.post(server.url, content=bad, headers=signed(bad, msg_id="msg_int"))
    assert response.status_code == 400
    assert response.json() == {"outcome": "malformed",
                               "reason": "`data.id` is missing or not a string"}
    assert acted == [] and not server.receiver.memory.handled("msg_int")
    # The sender fixes its payload and retries under the same id: acted on, not "duplicate".
    good = event()
    retry = httpx.post(server.url, content=good, headers=signed(good, msg_id="msg_int"))
    assert retry.json() == {"outcome": "accepted"} and acted == ["batches/abc"]


@pytest.mark.parametrize("body", [
    b'{"type": "batch.succeeded", "data": ',
    b"not json at all",
    b"[1, 2, 3]",
    b'{"data": {"id": "batches/abc"}}',
    b'{"type": "batch.failed", "data": "batches/abc"}',
    b'{"type": "batch.expired", "data": {"id": ""}}',
])
def test_signed_malformed_bodies_get_400_not_401(server, acted, body):
    response = httpx.post(server.url, content=body, headers=signed(body, msg_id="m"))
    assert response.status_code == 400, response.text
    assert server.receiver.deliveries[-1].outcome == "malformed"
    assert acted == []


def test_unsigned_malformed_json_is_still_a_401(server, acted):
    body = b'{"type": "batch.succeeded", "data": '
    response = httpx.post(server.url, content=body, headers=signed(body, secret=(
        "whsec_" + base64.b64encode(b"y" * 24).decode())))
    assert response.status_code == 401 and acted == []


def test_a_delivery_whose_handling_fails_is_acted_on_when_the_sender_retries(acted):
    attempts = []

    def flaky(name, payload):
        attempts.append(name)
        if len(attempts) == 1:
            raise ConnectionError("the API did not answer")
        acted.append(name)

    running = ReceiverServer(WebhookReceiver([SECRET], flaky)).start()
    try:
        body = event()
        first = httpx.post(running.url, content=body, headers=signed(body, msg_id="msg_r"))
        assert first.status_code == 500 and first.json() == {"outcome": "failed"}
        assert not running.receiver.memory.handled("msg_r")
        retry = httpx.post(running.url, content=body, headers=signed(body, msg_id="msg_r"))
        assert retry.status_code == 200 and retry.json() == {"outcome": "accepted"}
        assert acted == ["batches/abc"] and running.receiver.memory.handled("msg_r")
    finally:
        running.stop()


@pytest.mark.parametrize("kind", ["video.generated", "interaction.completed",
                                  "batch.completed", "something.new"])
def test_other_event_types_are_answered_200_ignored_and_logged(server, acted, caplog, kind):
    body = orjson.dumps({"type": kind, "data": {"id": 7}})
    with caplog.at_level(logging.WARNING, logger="gemops.webhooks"):
        response = httpx.post(server.url, content=body, headers=signed(body, msg_id=kind))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert acted == []
    assert any(kind in record.getMessage() and "ignored" in record.getMessage()
               for record in caplog.records)
    again = httpx.post(server.url, content=body, headers=signed(body, msg_id=kind))
    assert again.json() == {"outcome": "duplicate"}


def test_a_delivery_in_hand_is_not_acted_on_twice_and_a_slow_one_is_answered_in_time(acted):
    gate = threading.Event()

    def slow(name, payload):
        gate.wait(10)
        acted.append(name)

    receiver = WebhookReceiver([SECRET], slow, handle_budget_s=0.05)
    running = ReceiverServer(receiver).start()
    try:
        body = event()
        first = httpx.post(running.url, content=body, headers=signed(body, msg_id="msg_s"))
        assert first.status_code == 202 and first.json() == {"outcome": "handling"}
        again = httpx.post(running.url, content=body, headers=signed(body, msg_id="msg_s"))
        assert again.status_code == 409 and again.json() == {"outcome": "in-progress"}
        gate.set()
        deadline = time.monotonic() + 5
        while not receiver.memory.handled("msg_s") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert acted == ["batches/abc"]
        last = httpx.post(running.url, content=body, headers=signed(body, msg_id="msg_s"))
        assert last.json() == {"outcome": "duplicate"} and acted == ["batches/abc"]
    finally:
        gate.set()
        running.stop()


def test_the_replay_memory_survives_a_restart_and_is_bounded_by_age(settings, acted):
    now = [1_790_000_000.0]
    body = event()

    def deliver(msg_id: str) -> str:
        ws = make_workspace(settings, clock=lambda: now[0])
        try:
            # Signatures are checked on the wall clock; the memory's age on the store's.
            receiver = WebhookReceiver([SECRET], lambda name, payload: acted.append(name),
                                       memory=StoredDeliveries(ws))
            delivery = asyncio.run(receiver.receive_body(body, signed(body, msg_id=msg_id)))
            return delivery.outcome
        finally:
            ws.close()

    assert deliver("msg_p") == "accepted"
    # A new process (new workspace, new receiver) on the same database: still a duplicate.
    now[0] += 3600
    assert deliver("msg_p") == "duplicate"
    assert acted == ["batches/abc"]
    # Past the window the id is forgotten, and the row is gone from the table.
    now[0] += REMEMBER_S + 1
    assert deliver("msg_q") == "accepted"
    from store.engine import Store
    from store.repos import webhook_deliveries

    store = Store.open(settings.store_url)
    try:
        with store.session() as session:
            assert not webhook_deliveries.handled(session, "msg_p", since=0)
            assert webhook_deliveries.handled(session, "msg_q", since=0)
            assert webhook_deliveries.count(session) == 1
    finally:
        store.close()
