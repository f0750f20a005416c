"""A results writer killed mid-file leaves its half-written part; the next writer clears it,
but never a part a live writer (or another host's) is still writing."""

from __future__ import annotations

import socket
import subprocess
import sys

from console.services.batches import clear_dead_writers, writer_part
from console.services.callbook import process_owner


def _part(results, owner: str, tid: int = 7):
    path = results.with_name(f"{results.name}.w-{owner.replace(':', '+')}+{tid}.part")
    path.write_text("half")
    return path


def test_a_dead_writers_part_is_cleared_and_a_live_ones_kept(tmp_path):
    results = tmp_path / "orders.results.jsonl"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    killed = _part(results, f"{host}:{dead.stdout.strip()}:1")
    live = writer_part(results)
    live.write_text("being written")
    elsewhere = _part(results, "another-host:1:1")
    unrelated = _part(tmp_path / "other.results.jsonl", f"{host}:{dead.stdout.strip()}:1")

    clear_dead_writers(results)

    assert not killed.exists()
    assert live.exists() and elsewhere.exists() and unrelated.exists()
    assert process_owner().replace(":", "+") in live.name
