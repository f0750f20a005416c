"""`--state FILE`: caches, files (bytes too), batches, webhooks and quota days survive restarts."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from console.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.conftest import long_text


def _client(server: EmulatorServer) -> genai.Client:
    return genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.base_url))


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "emulator.sqlite")
    config = EmulatorConfig(state_path=state)
    config.update(
        {
            "batch": {"pending_s": 10, "per_request_s": 10},
            "quotas": {"gemini-2.0-flash": {"rpd": 5}},
        }
    )
    with EmulatorServer(config) as first:
        client = _client(first)
        uploaded = client.files.upload(
            file=io.BytesIO(b"persist me"), config={"mime_type": "text/plain"}
        )
        cache = client.caches.create(
            model="gemini-2.5-flash", config={"contents": [long_text(1100)]}
        )
        hook = client.webhooks.create(
            subscribed_events=["batch.succeeded"], uri="http://127.0.0.1:9/x"
        )
        job = client.batches.create(
            model="gemini-2.5-flash", src=[{"contents": [{"parts": [{"text": "x"}]}]}] * 2
        )
        client.models.generate_content(model="gemini-2.0-flash", contents="count me")
        first.clock.advance(15)  # RUNNING, one of two done
        assert client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    again = EmulatorConfig(state_path=state)
    again.update({"quotas": {"gemini-2.0-flash": {"rpd": 5}}})
    with EmulatorServer(again) as second:
        client = _client(second)
        assert second.clock.offset >= 15
        assert client.files.download(file=uploaded.name) == b"persist me"
        assert (
            client.caches.get(name=cache.name).usage_metadata.total_token_count
            == cache.usage_metadata.total_token_count
        )
        assert client.webhooks.get(id=hook.id).uri == "http://127.0.0.1:9/x"
        assert client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
        second.clock.advance(16)  # created + 10 s pending + 2 x 10 s
        done = client.batches.get(name=job.name)
        assert (
            done.state == types.JobState.JOB_STATE_SUCCEEDED
            and len(done.dest.inlined_responses) == 2
        )
        assert second.state.quotas.day_counters()["gemini-2.0-flash"][1] == 1


@pytest.mark.slow
def test_cli_entry_point_serves_with_state(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = tmp_path / "cli.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.emulator", "--port", str(port), "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=0.5).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert health["persistent"] is True
        client = genai.Client(api_key="k", http_options={"base_url": f"http://127.0.0.1:{port}"})
        assert client.models.generate_content(model="gemini-2.5-flash", contents="cli").text
    finally:
        proc.terminate()
        proc.wait(10)
    assert state.exists()
