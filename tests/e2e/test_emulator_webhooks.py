"""Webhooks: the management API through the SDK, and signed, retried batch event deliveries."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
from google import genai
from google.genai import types
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from console.emulator import EmulatorServer
from tests.e2e.conftest import HookReceiver


def test_management_api(genai_client: genai.Client, receiver: HookReceiver) -> None:
    hooks = genai_client.webhooks
    created = hooks.create(
        subscribed_events=["batch.succeeded", "batch.failed"], uri=receiver.url, name="ops"
    )
    assert created.new_signing_secret.startswith("whsec_")
    assert created.state == "enabled" and created.name == "ops" and created.uri == receiver.url
    assert len(created.id) == 36
    fetched = hooks.get(id=created.id)
    assert fetched.new_signing_secret is None  # only returned on create
    assert fetched.signing_secrets[0].truncated_secret.endswith(created.new_signing_secret[-4:])
    for i in range(3):
        hooks.create(subscribed_events=["batch.expired"], uri=f"{receiver.url}/{i}")
    first = hooks.list(page_size=2)
    assert len(first.webhooks) == 2 and first.next_page_token
    second = hooks.list(page_size=2, page_token=first.next_page_token)
    assert len(second.webhooks) == 2 and not second.next_page_token
    updated = hooks.update(id=created.id, state="disabled", update_mask="state")
    assert updated.state == "disabled" and updated.uri == receiver.url
    renamed = hooks.update(id=created.id, name="renamed", uri=f"{receiver.url}/x")
    assert renamed.name == "renamed" and renamed.uri.endswith("/x")
    rotated = hooks.rotate_signing_secret(id=created.id)
    assert rotated.secret.startswith("whsec_") and rotated.secret != created.new_signing_secret
    assert len(hooks.get(id=created.id).signing_secrets) == 2  # the old one lives 24 h
    hooks.rotate_signing_secret(
        id=created.id, revocation_behavior="revoke_previous_secrets_immediately"
    )
    assert len(hooks.get(id=created.id).signing_secrets) == 1
    hooks.delete(id=created.id)
    assert created.id not in [h.id for h in hooks.list().webhooks]


def test_missing_webhook_is_404(emulator_url: str) -> None:
    response = httpx.get(f"{emulator_url}/v1/webhooks/nope", headers={"x-goog-api-key": "k"})
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    assert response.headers["content-type"].startswith("application/json")


def test_ping_delivers_a_signed_event(genai_client: genai.Client, receiver: HookReceiver) -> None:
    created = genai_client.webhooks.create(subscribed_events=["batch.succeeded"], uri=receiver.url)
    genai_client.webhooks.ping(id=created.id)
    delivery = receiver.wait(1)[0]
    event = Webhook(created.new_signing_secret).verify(delivery["body"], delivery["headers"])
    assert event["type"] == "webhook.ping" and event["data"]["id"] == created.id


def test_batch_succeeded_event_is_signed_and_verifiable(
    genai_client: genai.Client, emulator: EmulatorServer, receiver: HookReceiver
) -> None:
    hook = genai_client.webhooks.create(subscribed_events=["batch.succeeded"], uri=receiver.url)
    genai_client.webhooks.create(subscribed_events=["batch.failed"], uri=receiver.url + "/other")
    src = genai_client.files.upload(
        file=io.BytesIO(b'{"key": "k1", "request": {"contents": [{"parts": [{"text": "hi"}]}]}}\n'),
        config={"mime_type": "jsonl"},
    )
    job = genai_client.batches.create(model="gemini-2.5-flash", src=src.name)
    emulator.clock.advance(5)
    [delivery] = receiver.wait(1)
    headers = delivery["headers"]
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith(
        "v1,"
    )
    event = Webhook(hook.new_signing_secret).verify(delivery["body"], headers)
    assert event["type"] == "batch.succeeded" and event["version"] == "v1"
    assert event["data"]["id"] == job.name
    assert event["data"]["output_file_uri"] == f"files/batch-{job.name.split('/')[1]}"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(delivery["body"], headers)


@pytest.mark.parametrize("emulator_config", [{"batch": {"fail_rate": 1.0}}], indirect=True)
def test_failed_delivery_is_retried_with_backoff(
    genai_client: genai.Client, emulator: EmulatorServer, control: httpx.Client
) -> None:
    flaky = HookReceiver(fail_first=2)
    try:
        hook = genai_client.webhooks.create(subscribed_events=["batch.failed"], uri=flaky.url)
        genai_client.batches.create(
            model="gemini-2.5-flash", src=[{"contents": [{"parts": [{"text": "x"}]}]}]
        )
        emulator.clock.advance(5)
        assert flaky.arrived.wait(5)
        assert len(flaky.received) == 3
        ids = {r["headers"]["webhook-id"] for r in flaky.received}
        assert len(ids) == 1  # the same message, retried
        event = Webhook(hook.new_signing_secret).verify(
            flaky.received[-1]["body"], flaky.received[-1]["headers"]
        )
        assert event["type"] == "batch.failed" and event["data"]["error_code"] == 13
        # The receiver answers before the emulator records the outcome: poll briefly.
        for _ in range(100):
            [record] = control.get("/webhook-deliveries").json()["deliveries"]
            if record["status"] != "pending":
                break
            time.sleep(0.01)
        assert record["status"] == "delivered" and record["attempts"] == 3
    finally:
        flaky.close()


def test_per_batch_webhook_config_overrides_registered_hooks(
    genai_client: genai.Client, emulator: EmulatorServer, receiver: HookReceiver
) -> None:
    registered = HookReceiver()
    try:
        genai_client.webhooks.create(subscribed_events=["batch.succeeded"], uri=registered.url)
        config = types.CreateBatchJobConfig(
            webhook_config=types.WebhookConfig(uris=[receiver.url], user_metadata={"job": "42"})
        )
        job = genai_client.batches.create(
            model="gemini-2.5-flash",
            src=[{"contents": [{"parts": [{"text": "x"}]}]}],
            config=config,
        )
        emulator.clock.advance(5)
        [delivery] = receiver.wait(1)
        event = Webhook(emulator.config.dynamic_webhook_secret).verify(
            delivery["body"], delivery["headers"]
        )
        assert event["data"] == {
            "id": job.name,
            "state": "BATCH_STATE_SUCCEEDED",
            "user_metadata": {"job": "42"},
        }
        assert registered.received == []
    finally:
        registered.close()


@pytest.mark.parametrize(
    "emulator_config", [{"batch": {"pending_s": 10, "per_request_s": 86400}}], indirect=True
)
def test_batch_expired_event(
    genai_client: genai.Client, emulator: EmulatorServer, receiver: HookReceiver
) -> None:
    hook = genai_client.webhooks.create(subscribed_events=["batch.expired"], uri=receiver.url)
    genai_client.batches.create(
        model="gemini-2.5-flash", src=[{"contents": [{"parts": [{"text": "x"}]}]}] * 3
    )
    emulator.clock.advance(48 * 3600)
    [delivery] = receiver.wait(1)
    event = Webhook(hook.new_signing_secret).verify(delivery["body"], delivery["headers"])
    assert event["type"] == "batch.expired"
    assert json.loads(delivery["body"])["data"]["error_message"].endswith("48h timeframe.")


async def test_async_webhooks_client(genai_client: genai.Client, receiver: HookReceiver) -> None:
    hooks = genai_client.aio.webhooks
    created = await hooks.create(subscribed_events=["batch.succeeded"], uri=receiver.url)
    assert (await hooks.get(id=created.id)).id == created.id
    assert [h.id for h in (await hooks.list()).webhooks] == [created.id]
    await hooks.ping(id=created.id)
    assert (await hooks.rotate_signing_secret(id=created.id)).secret.startswith("whsec_")
    await hooks.delete(id=created.id)
    assert (await hooks.list()).webhooks == []
