"""The gateway's webhook and cache calls go through the SDK's public clients (not its private
`_api_client`): their errors still become GatewayErrors, retried by the gateway's own policy
(the SDK retrying nothing on its own), and every attempt is ledgered."""

from __future__ import annotations

import httpx
import pytest

from console.emulator import EmulatorConfig, EmulatorServer
from console.services.gateway import Gateway, GatewayError
from console.services.limits import RateLimiter
from console.services.pricing import PriceTable
from console.services.remote import RemoteCache
from console.services.retry import RetryPolicy
from console.settings import LimitsSettings


@pytest.fixture
def server():
    emulator = EmulatorServer(EmulatorConfig(seed=3)).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def gateway(server):
    rows: list[dict] = []

    async def no_sleep(_seconds: float) -> None:
        return None

    made = Gateway(
        api_key="test-key", base_url=server.base_url, prices=PriceTable.default(),
        limiter=RateLimiter(LimitsSettings()), write_ledger=rows.extend,
        sleep=no_sleep, retry_policy=RetryPolicy(attempts=3, initial_s=0.01, jitter_s=0.0),
    )
    made.rows = rows  # type: ignore[attr-defined]
    yield made
    made.close()


def logged(server: EmulatorServer, operation: str) -> list[dict]:
    rows = httpx.get(f"{server.base_url}/_emulator/requests").json()["requests"]
    return [r for r in rows if r["operation"] == operation]


def test_webhooks_round_trip_through_the_public_client(gateway, server):
    hook = gateway.run(gateway.create_webhook("http://127.0.0.1:9/hook", ["batch.succeeded"],
                                              "mine"))
    assert hook["new_signing_secret"].startswith("whsec_")
    assert hook["name"] == "mine" and hook["subscribed_events"] == ["batch.succeeded"]
    listed = gateway.run(gateway.list_webhooks())
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "new_signing_secret" not in listed[0]  # shown only once, at creation
    gateway.run(gateway.delete_webhook(f"webhooks/{hook['id']}"))
    assert gateway.run(gateway.list_webhooks()) == []


def test_webhook_errors_are_gateway_errors_retried_by_the_gateway_only(gateway, server):
    with pytest.raises(GatewayError) as missing:
        gateway.run(gateway.delete_webhook("nope"))
    assert missing.value.status == 404 and "nope" in missing.value.message
    assert [(r["operation"], r["status"], r["attempt"]) for r in gateway.rows] == [
        ("delete_webhook", 404, 1)]

    httpx.put(f"{server.base_url}/_emulator/faults",
              json={"error_rates": {"503": 1.0}, "operations": ["webhooks.create"]})
    with pytest.raises(GatewayError) as down:
        gateway.run(gateway.create_webhook("http://127.0.0.1:9/hook", ["batch.failed"]))
    assert down.value.status == 503
    # Three attempts, all the gateway's: the SDK's own webhook client retried none of them.
    assert len(logged(server, "webhooks.create")) == 3
    assert [r["attempt"] for r in gateway.rows if r["operation"] == "create_webhook"] == [1, 2, 3]


def test_caches_read_and_listed_page_by_page_through_the_public_client(gateway, server):
    text = "Northwind operator handbook, part {0}. " * 400
    created = [gateway.run(gateway.create_cache("gemini-2.5-flash", {
        "contents": [{"role": "user", "parts": [{"text": text.format(i)}]}], "ttl": "600s"}))
        for i in range(3)]
    # Our own records, the same whichever call (and shape) they came from.
    assert isinstance(created[0], RemoteCache) and created[0].model == "gemini-2.5-flash"
    assert gateway.run(gateway.get_cache(created[0].name)) == created[0]
    listed = gateway.run(gateway.list_caches(page_size=2))
    assert sorted(c.name for c in listed) == sorted(c.name for c in created)
    assert len(logged(server, "cachedContents.list")) == 2  # two pages, each its own call
