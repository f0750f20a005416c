"""Sub-commands by area, loaded by `gemops` only when named (see console/cli.py)."""

from __future__ import annotations

from typing import Any


def open_workspace() -> Any:
    """The workspace a command works in, from the same settings the console reads; close it
    with `ws.close()` (which writes the ledger's last rows and stops an embedded emulator)."""
    from console.bootstrap import make_workspace
    from console.settings import load_settings

    return make_workspace(load_settings())
