"""Sub-commands by area, loaded by `gemops` only when named (see console/cli.py)."""

from __future__ import annotations

from typing import Any

from console.services.wording import plural

__all__ = ["plural"]


def open_workspace() -> Any:
    """The workspace a command works in, from the same settings the console reads; close it
    with `ws.close()` (which writes the ledger's last rows and stops an embedded emulator)."""
    from console.bootstrap import make_workspace
    from console.cli import _settings

    return make_workspace(_settings())


def filter_option(error: Exception, since: str | None, until: str | None) -> str | None:
    """Which date option a filter error is about, so the message can name it."""
    for option, value in (("--since", since), ("--until", until)):
        if value and repr(value) in str(error):
            return f"'{option}'"
    return None


def results_dir() -> Any:
    """Where command-line batch results go unless `--results` says otherwise: the data
    folder's results/ (`gemops locate results`), never beside the input file, which may be
    in a source tree or read-only."""
    from console import paths

    return paths.data_dir() / "results"
