"""Quotas: 429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo, then success after the delay."""

from __future__ import annotations

import httpx
import pytest
from google import genai
from google.genai import errors

from console.emulator import EmulatorServer

RPM2 = {"quotas": {"gemini-2.5-flash": {"rpm": 2, "tpm": 0, "rpd": 0}}}


def _details(error: errors.APIError) -> dict:
    return {d["@type"].rsplit(".", 1)[1]: d for d in error.details["error"]["details"]}


@pytest.mark.parametrize("emulator_config", [RPM2], indirect=True)
def test_rpm_429_then_success_after_retry_delay(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    genai_client.models.generate_content(model="gemini-2.5-flash", contents="one")
    emulator.clock.advance(20)
    genai_client.models.generate_content(model="gemini-2.5-flash", contents="two")
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model="gemini-2.5-flash", contents="three")
    error = caught.value
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    details = _details(error)
    # The first request leaves the 60 s window 40 s from now.
    assert details["RetryInfo"]["retryDelay"] == "40s"
    violation = details["QuotaFailure"]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel"
    assert violation["quotaDimensions"] == {"location": "global", "model": "gemini-2.5-flash"}
    assert violation["quotaValue"] == "2"
    assert details["Help"]["links"][0]["url"].startswith("https://ai.google.dev/")
    emulator.clock.advance(39)
    with pytest.raises(errors.ClientError):
        genai_client.models.generate_content(model="gemini-2.5-flash", contents="three")
    emulator.clock.advance(1)
    assert genai_client.models.generate_content(model="gemini-2.5-flash", contents="three").text
    # Other models have their own quota.
    assert genai_client.models.generate_content(model="gemini-2.5-pro", contents="x").text


@pytest.mark.parametrize(
    "emulator_config", [{"quotas": {"gemini-2.5-flash": {"tpm": 100}}}], indirect=True
)
async def test_tpm_counts_input_tokens(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    aio = genai_client.aio.models
    await aio.generate_content(model="gemini-2.5-flash", contents="x" * 320)  # 80 tokens
    with pytest.raises(errors.ClientError) as caught:
        await aio.generate_content(model="gemini-2.5-flash", contents="y" * 160)  # 40 more
    violation = _details(caught.value)["QuotaFailure"]["violations"][0]
    assert violation["quotaId"] == "GenerateContentPaidTierInputTokensPerModelPerMinute"
    assert _details(caught.value)["RetryInfo"]["retryDelay"] == "60s"
    assert (await aio.generate_content(model="gemini-2.5-flash", contents="z" * 80)).text  # 20 fit
    emulator.clock.advance(60)
    assert (await aio.generate_content(model="gemini-2.5-flash", contents="y" * 160)).text


@pytest.mark.parametrize(
    "emulator_config", [{"quotas": {"gemini-2.0-flash": {"rpd": 2}}}], indirect=True
)
def test_rpd_resets_at_pacific_midnight(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    for _ in range(2):
        genai_client.models.generate_content(model="gemini-2.0-flash", contents="d")
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model="gemini-2.0-flash", contents="d")
    details = _details(caught.value)
    assert (
        details["QuotaFailure"]["violations"][0]["quotaId"]
        == "GenerateRequestsPerDayPerProjectPerModel"
    )
    delay = int(details["RetryInfo"]["retryDelay"].removesuffix("s"))
    assert 0 < delay <= 25 * 3600
    emulator.clock.advance(delay)
    assert genai_client.models.generate_content(model="gemini-2.0-flash", contents="d").text


def test_quota_limits_change_at_run_time(genai_client: genai.Client, control: httpx.Client) -> None:
    control.patch("/config", json={"quotas": {"gemini-2.5-flash-lite": {"rpm": 1}}})
    genai_client.models.generate_content(model="gemini-2.5-flash-lite", contents="a")
    with pytest.raises(errors.ClientError):
        genai_client.models.generate_content(model="gemini-2.5-flash-lite", contents="a")
    control.patch("/config", json={"quotas_enabled": False})
    assert genai_client.models.generate_content(model="gemini-2.5-flash-lite", contents="a").text
