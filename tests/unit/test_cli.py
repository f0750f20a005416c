"""The command line, headless: help, locate, and area commands loaded only when named."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from console.cli import main


def gemops(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli import run; run()", *args],
        capture_output=True, text=True, env=(env or os.environ), timeout=60,
    )


def test_help_runs_headless_and_lists_commands():
    out = gemops("--help")
    assert out.returncode == 0, out.stderr
    for command in ("locate", "emulator", "sync", "cost", "redact"):
        assert command in out.stdout


def test_locate_db_honours_settings(tmp_path):
    env = dict(os.environ, GEMOPS_STORE__PATH=str(tmp_path / "x.sqlite3"))
    out = gemops("locate", "db", env=env)
    assert out.returncode == 0 and out.stdout.strip() == str(tmp_path / "x.sqlite3")
    assert not (tmp_path / "x.sqlite3").exists()  # locating creates nothing


def test_locate_config_follows_the_override(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMOPS_CONFIG_FILE", str(tmp_path / "my.toml"))
    result = CliRunner().invoke(main, ["locate", "config"])
    assert result.output.strip() == str(tmp_path / "my.toml")


def test_help_does_not_import_the_sdk_or_sqlalchemy():
    code = (
        "import sys\nfrom console.cli import main\n"
        "try:\n    main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('google.genai', 'sqlalchemy', 'textual') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_locate_cache_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    result = CliRunner().invoke(main, ["locate", "cache"])
    assert result.output.strip() == str(tmp_path / "cache-home" / "gemops")
