"""Sub-commands by area, loaded by `gemops` only when named (see console/cli.py)."""
