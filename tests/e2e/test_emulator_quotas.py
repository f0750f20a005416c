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


# -- quota models ------------------------------------------------------------------------------

BUCKET = {"quota_model": "token-bucket", "quota_burst_fraction": 0.1,
          "quotas": {"gemini-2.5-flash": {"rpm": 60, "tpm": 0, "rpd": 0}}}
SLIDING = {"quotas": {"gemini-2.5-flash": {"rpm": 60, "tpm": 0, "rpd": 0}}}


def _burst(client: genai.Client, n: int) -> list[int | str]:
    outcome: list[int | str] = []
    for i in range(n):
        try:
            client.models.generate_content(model="gemini-2.5-flash", contents=f"b{i}")
            outcome.append(200)
        except errors.ClientError as error:
            outcome.append(_details(error)["RetryInfo"]["retryDelay"])
    return outcome


@pytest.mark.parametrize("emulator_config", [SLIDING], indirect=True)
def test_sliding_log_admits_a_whole_minute_at_once(genai_client: genai.Client) -> None:
    outcome = _burst(genai_client, 61)
    assert outcome[:60] == [200] * 60 and outcome[60] == "60s"


@pytest.mark.parametrize("emulator_config", [BUCKET], indirect=True)
def test_token_bucket_admits_a_tenth_of_the_minute_then_one_per_refill(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    outcome = _burst(genai_client, 8)
    # A burst of 6 (10 % of 60), then refused with a short delay: one request per second.
    assert outcome[:6] == [200] * 6 and outcome[6] == "1s"
    violation = None
    try:
        genai_client.models.generate_content(model="gemini-2.5-flash", contents="x")
    except errors.ClientError as error:
        violation = _details(error)["QuotaFailure"]["violations"][0]
    assert violation and violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel"
    emulator.clock.advance(1)
    assert _burst(genai_client, 2) == [200, "1s"]
    emulator.clock.advance(60)  # a quiet minute refills only the burst, not the minute
    assert _burst(genai_client, 7).count(200) == 6


@pytest.mark.parametrize(
    "emulator_config",
    [{"quota_model": "token-bucket", "quotas": {"gemini-2.5-flash": {"rpm": 0, "tpm": 600}}}],
    indirect=True,
)
async def test_token_bucket_tpm_asks_for_the_refill_time(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    aio = genai_client.aio.models
    await aio.generate_content(model="gemini-2.5-flash", contents="x" * 200)  # 50 of 60 tokens
    with pytest.raises(errors.ClientError) as caught:
        await aio.generate_content(model="gemini-2.5-flash", contents="y" * 160)  # 40 more
    # 40 tokens need 30 more in the bucket at 10 per second.
    assert _details(caught.value)["RetryInfo"]["retryDelay"] == "3s"
    emulator.clock.advance(3)
    assert (await aio.generate_content(model="gemini-2.5-flash", contents="y" * 160)).text


def test_quota_model_is_switched_at_run_time_and_checked(
    genai_client: genai.Client, control: httpx.Client
) -> None:
    control.patch("/config", json=SLIDING)
    assert _burst(genai_client, 10) == [200] * 10
    assert control.patch("/config", json={"quota_model": "token-bucket"}).status_code == 200
    assert control.get("/config").json()["quota_model"] == "token-bucket"
    assert _burst(genai_client, 7)[:6] == [200] * 6


def test_emulator_command_takes_the_quota_model_from_its_config(tmp_path) -> None:
    import socket
    import subprocess
    import sys
    import time

    config = tmp_path / "emulator.toml"
    config.write_text('quota_model = "token-bucket"\nquota_burst_fraction = 0.05\n'
                      '[quotas."gemini-2.5-flash"]\nrpm = 100\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-c", "from console.cli import main; main()", "emulator",
               "--port", str(port), "--config", str(config)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "emulator did not start"
            time.sleep(0.1)
        assert httpx.get(f"{url}/_emulator/config").json()["quota_model"] == "token-bucket"
        from google.genai import types

        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=url))
        assert _burst(client, 6)[:5] == [200] * 5 and _burst(client, 1) != [200]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_unknown_quota_model_is_refused(tmp_path) -> None:
    from console.emulator import EmulatorConfig

    with pytest.raises(ValueError, match="quota_model must be one of"):
        EmulatorServer(EmulatorConfig(quota_model="fixed-window"))


def test_patching_an_unknown_quota_model_is_refused_and_changes_nothing(
    genai_client: genai.Client, control: httpx.Client
) -> None:
    refused = control.patch("/config", json={"quota_model": "fixed-window"})
    assert refused.status_code == 400
    assert "quota_model must be one of sliding-log, token-bucket" in refused.text
    assert control.get("/config").json()["quota_model"] == "sliding-log"
    # The emulator still serves (a bad value would make every quota check raise).
    assert genai_client.models.generate_content(model="gemini-2.5-flash", contents="x").text
