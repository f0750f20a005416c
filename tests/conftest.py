"""Shared fixtures: every test starts what it needs (emulator, temp SQLite, temp folders)."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.emulator_fixtures", "tests.pg_fixtures"]

def pytest_configure(config) -> None:
    """Caches (compiled patterns, the prefilter) of this run only, from the first import on:
    modules compile patterns when collected, before any fixture runs."""
    import os
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gemops-test-cache-")


FROZEN_NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z: snapshots must not depend on the day


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test reads the developer's config, key or data directory."""
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMOPS_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEMOPS_CONFIG_FILE", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def settings(tmp_path):
    from console.settings import load_settings

    return load_settings(store={"path": tmp_path / "gemops.sqlite3"})


@pytest.fixture
def frozen_clock():
    return lambda: FROZEN_NOW
