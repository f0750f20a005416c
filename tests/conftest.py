"""Shared fixtures: every test starts what it needs (emulator, temp SQLite, temp folders)."""

pytest_plugins = ["tests.emulator_fixtures"]
