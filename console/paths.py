"""Where gemops keeps things on disk: functions, never import-time constants."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "gemops"


def _dirs():
    # platformdirs is imported on demand: `paths` sits on the path to the first frame.
    from platformdirs import PlatformDirs

    return PlatformDirs(APP_NAME, appauthor=False)


def config_dir() -> Path:
    return Path(_dirs().user_config_dir)


def config_file() -> Path:
    """The TOML settings file; GEMOPS_CONFIG_FILE overrides the default location."""
    override = os.environ.get("GEMOPS_CONFIG_FILE")
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(_dirs().user_data_dir)


def default_db_path() -> Path:
    return data_dir() / "gemops.sqlite3"


def default_drop_dir() -> Path:
    return data_dir() / "drop"


def cache_dir() -> Path:
    """Things gemops can always rebuild (a compiled pattern database): safe to delete."""
    return Path(_dirs().user_cache_dir)


def log_file() -> Path:
    return Path(_dirs().user_log_dir) / "gemops.log"
