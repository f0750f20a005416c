"""pytest plugin: a real Gemini API emulator on a free loopback port, and SDK clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.emulator import EmulatorConfig, EmulatorServer


@pytest.fixture
def emulator_config(request: pytest.FixtureRequest) -> EmulatorConfig:
    """Default settings with a fixed seed; `parametrize(..., indirect=True)` with a dict of
    overrides (the `PATCH /_emulator/config` shape) starts the emulator with other settings."""
    config = EmulatorConfig(seed=1234)
    overrides = getattr(request, "param", None)
    if overrides:
        config.update(overrides)
    return config


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    server = EmulatorServer(emulator_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator_url(emulator: EmulatorServer) -> str:
    return emulator.base_url


@pytest.fixture
def genai_client(emulator_url: str):
    from google import genai
    from google.genai import types

    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=emulator_url))
