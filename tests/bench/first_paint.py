"""first_paint: seconds from starting `gemops` to its first frame on a terminal (a pty).

Measured from outside, as a person sees it: spawn the process on a pseudo-terminal and stop the
clock when the overview's cards reach the screen. The baseline is a minimal Textual app painting
one line, started the same way in the same run. Target: <= 0.8 s median.
"""

from __future__ import annotations

import os
import pty
import select
import statistics
import sys
import tempfile
import time

from tests.bench._harness import BenchResult, compile_packages

RUNS = 7
BASELINE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class A(App):\n"
    "    def compose(self):\n"
    "        yield Static('Spend today')\n"
    "A().run()\n"
)


def time_to_marker(argv: list[str], env: dict[str, str], marker: bytes, timeout: float = 20.0) -> float:
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the program on the pty
        os.execvpe(argv[0], argv, env)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in seen:
                    return time.perf_counter() - started
        raise RuntimeError(f"{marker!r} never appeared; output tail: {seen[-400:]!r}")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def run() -> BenchResult:
    home = tempfile.mkdtemp(prefix="gemops-bench-")
    env = {
        k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    } | {
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "GEMOPS_STORE__PATH": os.path.join(home, "gemops.sqlite3"),
        "GEMOPS_CONFIG_FILE": os.path.join(home, "none.toml"),
    }
    compile_packages()
    ours = [sys.executable, "-c", "from console.cli import run; run()"]
    baseline = [sys.executable, "-c", BASELINE_APP]
    # Warm the file cache once, then alternate so drift hits both alike.
    time_to_marker(ours, env, b"Spend today")
    time_to_marker(baseline, env, b"Spend today")
    ours_s, base_s = [], []
    for _ in range(RUNS):
        ours_s.append(time_to_marker(ours, env, b"Spend today"))
        base_s.append(time_to_marker(baseline, env, b"Spend today"))
    return BenchResult(
        name="first_paint",
        value=statistics.median(ours_s),
        unit="s",
        baseline=statistics.median(base_s),
        baseline_label="minimal Textual app",
        target="<= 0.8 s",
        extra={"runs": ours_s, "baseline_runs": base_s},
    )
