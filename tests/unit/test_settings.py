"""Settings: env with GEMOPS_ and __ nesting, a TOML file, and the key kept secret."""

from __future__ import annotations

from console.settings import Mode, load_settings


def test_no_key_means_emulator_mode():
    assert load_settings().mode is Mode.EMULATOR


def test_key_from_env_is_secret_and_means_live(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyThisIsNotARealKey000000000000000")
    settings = load_settings()
    assert settings.mode is Mode.LIVE
    assert "AIza" not in repr(settings) and "AIza" not in str(settings.model_dump())
    assert settings.api_key.get_secret_value().startswith("AIza")


def test_google_api_key_wins_like_the_sdk(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini")
    monkeypatch.setenv("GOOGLE_API_KEY", "google")
    assert load_settings().api_key.get_secret_value() == "google"


def test_toml_file_and_env_nesting(tmp_path, monkeypatch):
    config = tmp_path / "gemops.toml"
    config.write_text(
        '[sync]\ninterval_s = 42\n[limits.models."gemini-9-flash"]\nrpm = 7\ntpm = 700\n'
    )
    monkeypatch.setenv("GEMOPS_CONFIG_FILE", str(config))
    monkeypatch.setenv("GEMOPS_DROP__BATCH_THRESHOLD", "25")
    settings = load_settings()
    assert settings.sync.interval_s == 42
    assert settings.drop.batch_threshold == 25
    assert settings.limits.for_call("models/gemini-9-flash", "standard").rpm == 7
    # Env beats the file.
    monkeypatch.setenv("GEMOPS_SYNC__INTERVAL_S", "5")
    assert load_settings().sync.interval_s == 5


def test_priority_draws_on_the_whole_model_budget_by_default():
    # The API serves priority calls above priority's own limit as standard (issue 14).
    limits = load_settings().limits
    standard = limits.for_call("gemini-2.5-flash", "standard")
    priority = limits.for_call("gemini-2.5-flash-001", "priority")
    assert priority.rpm == standard.rpm
