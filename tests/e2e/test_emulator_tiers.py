"""Service tiers: the served-tier header, flex shedding (503), priority downgrade, latency."""

from __future__ import annotations

import time

import httpx
import pytest
from google import genai
from google.genai import errors, types

from console.emulator import EmulatorServer


def _ask(client: genai.Client, tier: str | None, model: str = "gemini-2.5-flash"):
    config = types.GenerateContentConfig(service_tier=tier) if tier else None
    return client.models.generate_content(model=model, contents="tier test", config=config)


def _served(response) -> str:
    return response.sdk_http_response.headers["x-gemini-service-tier"]


@pytest.mark.parametrize("tier", ["flex", "standard", "priority"])
def test_requested_tier_is_served_and_reported(genai_client: genai.Client, tier: str) -> None:
    assert _served(_ask(genai_client, tier)) == tier


def test_no_tier_means_standard(genai_client: genai.Client) -> None:
    assert _served(_ask(genai_client, None)) == "standard"


@pytest.mark.parametrize("spelling", ["PRIORITY", "SERVICE_TIER_PRIORITY", "Priority"])
def test_tier_case_and_prefix_are_normalised(emulator_url: str, spelling: str) -> None:
    response = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-2.5-flash:generateContent",
        headers={"x-goog-api-key": "k"},
        json={"contents": [{"parts": [{"text": "x"}]}], "serviceTier": spelling},
    )
    assert response.headers["x-gemini-service-tier"] == "priority"


@pytest.mark.parametrize("emulator_config", [{"flex_shed_rate": 1.0}], indirect=True)
def test_flex_is_shed_with_503_unavailable(
    genai_client: genai.Client, control: httpx.Client
) -> None:
    with pytest.raises(errors.ServerError) as caught:
        _ask(genai_client, "flex")
    assert caught.value.code == 503 and caught.value.status == "UNAVAILABLE"
    assert caught.value.message == "The model is overloaded. Please try again later."
    assert _served(_ask(genai_client, "standard")) == "standard"  # only flex is sheddable
    log = control.get("/requests", params={"operation": "generateContent"}).json()["requests"]
    assert [(r["tier_requested"], r["status"]) for r in log] == [("flex", 503), ("standard", 200)]


@pytest.mark.parametrize("emulator_config", [{"flex_max_in_flight": 1}], indirect=True)
async def test_flex_is_shed_under_load(genai_client: genai.Client, control: httpx.Client) -> None:
    import asyncio

    control.patch("/config", json={"tier_latency": {"flex": {"base_s": 0.2}}})
    config = types.GenerateContentConfig(service_tier="flex")
    results = await asyncio.gather(
        *(
            genai_client.aio.models.generate_content(
                model="gemini-2.5-flash", contents="x", config=config
            )
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    shed = [r for r in results if isinstance(r, errors.ServerError)]
    assert shed and all(r.code == 503 for r in shed)
    assert any(not isinstance(r, Exception) for r in results)


@pytest.mark.parametrize(
    "emulator_config", [{"quotas": {"gemini-2.5-flash": {"rpm": 10}}}], indirect=True
)
def test_priority_over_its_limit_is_downgraded_to_standard(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    # 0.3 x 10 RPM = 3 priority requests a minute; the 4th is served on standard.
    served = [_served(_ask(genai_client, "priority")) for _ in range(4)]
    assert served == ["priority", "priority", "priority", "standard"]
    emulator.clock.advance(61)
    assert _served(_ask(genai_client, "priority")) == "priority"


def test_tier_latency_profiles(
    emulator: EmulatorServer, genai_client: genai.Client, control: httpx.Client
) -> None:
    control.patch(
        "/config",
        json={
            "tier_latency": {"flex": {"base_s": 0.3, "jitter_s": 0.05}, "priority": {"base_s": 0.0}}
        },
    )
    timings = {}
    for tier in ("flex", "priority"):
        started = time.perf_counter()
        _ask(genai_client, tier)
        timings[tier] = time.perf_counter() - started
    assert timings["flex"] >= 0.3  # a lower bound holds however busy the machine is
    # What the emulator chose to wait, from its request log (an upper wall-clock bound on
    # the priority call would fail on a loaded machine).
    flex, priority = (e["delay_s"] for e in emulator.state.log.query(
        operation="generateContent")[-2:])
    assert 0.3 <= flex <= 0.35 and priority == 0.0
    assert emulator.config.tier_latency["flex"].base_s == 0.3


def test_realistic_preset_orders_tiers_by_latency() -> None:
    from console.emulator import EmulatorConfig

    preset = EmulatorConfig.realistic().tier_latency
    mean = {t: p.base_s + p.jitter_s / 2 for t, p in preset.items()}
    assert mean["flex"] > mean["standard"] > mean["priority"]
    assert preset["flex"].jitter_s > preset["standard"].jitter_s > preset["priority"].jitter_s
    assert EmulatorConfig().tier_latency["flex"].base_s == 0.0
