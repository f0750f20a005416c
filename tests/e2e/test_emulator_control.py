"""Fault profiles and the `/_emulator/` control surface (health, reset, log, clock, config)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import errors

from console.emulator import EmulatorConfig, EmulatorServer, FaultProfile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "emulator"


def _ask(client: genai.Client, text: str = "x"):
    return client.models.generate_content(model="gemini-2.5-flash", contents=text)


def test_health_and_clock(control: httpx.Client, emulator: EmulatorServer) -> None:
    health = control.get("/health").json()
    assert health["status"] == "ok" and health["persistent"] is False
    before = control.get("/clock").json()["now_unix"]
    moved = control.post("/clock", json={"advance_seconds": 3600}).json()
    assert moved["offset_seconds"] == 3600 and moved["now_unix"] - before >= 3600
    assert emulator.clock.offset == 3600
    assert control.post("/clock", json={"advance_seconds": -1}).status_code == 400


def test_request_log_never_records_keys(
    genai_client: genai.Client, control: httpx.Client, emulator_url: str
) -> None:
    _ask(genai_client)
    httpx.get(f"{emulator_url}/v1beta/models?key=secret-key&pageSize=2")
    rows = control.get("/requests").json()["requests"]
    assert [(r["operation"], r["status"]) for r in rows] == [
        ("generateContent", 200),
        ("models.list", 200),
    ]
    first = rows[0]
    assert first["model"] == "gemini-2.5-flash" and first["method"] == "POST"
    assert first["tier_requested"] == first["tier_served"] == "standard"
    assert first["path"] == "/v1/models/gemini-2.5-flash:generateContent"
    assert rows[1]["query"] == {"pageSize": "2"}
    assert (
        "secret-key" not in control.get("/requests").text
        and "test-key" not in control.get("/requests").text
    )
    only = control.get("/requests", params={"operation": "models.list"}).json()["requests"]
    assert len(only) == 1
    assert control.get("/requests", params={"since_id": rows[-1]["id"]}).json()["requests"] == []


def test_reset_forgets_everything(genai_client: genai.Client, control: httpx.Client) -> None:
    genai_client.batches.create(
        model="gemini-2.5-flash", src=[{"contents": [{"parts": [{"text": "x"}]}]}]
    )
    assert control.get("/health").json()["counts"]["batches"] == 1
    control.post("/reset")
    health = control.get("/health").json()
    assert health["counts"]["batches"] == 0 and health["counts"]["requests_logged"] == 0


def test_faults_put_and_get(genai_client: genai.Client, control: httpx.Client) -> None:
    put = control.put(
        "/faults", json={"error_rates": {"500": 1.0}, "operations": ["generateContent"]}
    )
    assert put.json()["error_rates"] == {"500": 1.0}
    with pytest.raises(errors.ServerError) as caught:
        _ask(genai_client)
    assert caught.value.code == 500 and caught.value.status == "INTERNAL"
    assert (
        genai_client.models.count_tokens(model="gemini-2.5-flash", contents="x").total_tokens == 1
    )
    control.put("/faults", json={"error_rates": {"429": 1.0}})
    with pytest.raises(errors.ClientError) as quota:
        _ask(genai_client)
    assert (
        quota.value.code == 429
        and quota.value.details["error"]["details"][-1]["retryDelay"] == "1s"
    )
    control.put("/faults", json={})
    assert _ask(genai_client).text
    assert control.put("/faults", json={"nonsense": 1}).status_code == 400


def test_dropped_connections(genai_client: genai.Client, control: httpx.Client) -> None:
    control.put("/faults", json={"drop_connection_rate": 1.0})
    # The SDK's transport (httpx2 in google-genai 3.4) reports the truncated body.
    with pytest.raises(Exception, match="peer closed connection") as caught:
        _ask(genai_client)
    assert type(caught.value).__name__ == "RemoteProtocolError"
    control.put("/faults", json={})
    assert _ask(genai_client).text


def test_latency_spikes(genai_client: genai.Client, control: httpx.Client) -> None:
    control.put("/faults", json={"latency_spike_rate": 1.0, "latency_spike_s": 0.3})
    started = time.perf_counter()
    _ask(genai_client)
    assert time.perf_counter() - started >= 0.3


def test_stream_breaks_mid_way(genai_client: genai.Client, control: httpx.Client) -> None:
    control.put("/faults", json={"stream_error_rate": 1.0})
    seen = []
    with pytest.raises(errors.ServerError) as caught:
        for chunk in genai_client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="x"
        ):
            seen.append(chunk.text)
    assert len(seen) == 1 and caught.value.code == 500


def test_config_patch_and_get(control: httpx.Client, emulator: EmulatorServer) -> None:
    body = control.patch(
        "/config",
        json={
            "quotas": {"gemini-2.5-pro": {"rpm": 7}},
            "flex_shed_rate": 0.25,
            "batch": {"pending_s": 9},
            "cache_min_tokens": {"gemini-2.5-flash": 2048},
            "chars_per_token": 3,
        },
    ).json()
    assert body["quotas"]["gemini-2.5-pro"]["rpm"] == 7 and body["flex_shed_rate"] == 0.25
    assert body["batch"]["pending_s"] == 9 and body["cache_min_tokens"]["gemini-2.5-flash"] == 2048
    assert emulator.state.counter.chars_per_token == 3
    assert "dynamic_webhook_secret" not in body
    bad = control.patch("/config", json={"flex_shed_rate": "lots"})
    assert bad.status_code == 400 and "flex_shed_rate" in bad.json()["error"]["message"]


def test_unknown_routes_get_the_error_envelope(emulator_url: str) -> None:
    response = httpx.get(f"{emulator_url}/v1beta/nothing/here")
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    wrong = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-2.5-flash:explode",
        headers={"x-goog-api-key": "k"},
        json={},
    )
    assert wrong.status_code == 404


def test_fixture_profiles_load() -> None:
    flaky = FaultProfile.from_toml(FIXTURES / "flaky.toml")
    assert (
        flaky.error_rates == {503: 0.05, 500: 0.01, 429: 0.02}
        and flaky.drop_connection_rate == 0.01
    )
    outage = FaultProfile.from_toml(FIXTURES / "outage.toml")
    assert outage.operations == ["generateContent", "streamGenerateContent"]
    config = EmulatorConfig.from_toml(FIXTURES / "realistic.toml")
    assert config.tier_latency["flex"].jitter_s == 2.7 and config.batch.pending_s == 30
    assert config.quotas["gemini-2.5-flash-image"].rpm == 2
    assert config.quotas["gemini-2.5-flash"].rpm == EmulatorConfig().quotas["gemini-2.5-flash"].rpm


def test_outage_profile_at_start(tmp_path: Path) -> None:
    from console.emulator.server import load_config

    config = load_config(faults_path=FIXTURES / "outage.toml")
    with EmulatorServer(config) as server:
        client = genai.Client(api_key="k", http_options={"base_url": server.base_url})
        with pytest.raises(errors.ServerError):
            _ask(client)
        assert (
            client.models.count_tokens(model="gemini-2.5-flash", contents="abcd").total_tokens == 1
        )
