"""The benchmark protocol: one result line per benchmark and a JSON record beside it.

A benchmark measures its own baseline in the same run (a ratio survives a noisy machine, an
absolute time does not), so every result carries the baseline figure and the ratio.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass
class BenchResult:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = "baseline"
    target: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    def line(self) -> str:
        value = _fmt(self.value)
        if self.baseline is None:
            tail = ""
        else:
            tail = f" ({self.baseline_label} {_fmt(self.baseline)}, ratio {self.ratio:.2f})"
        target = f"  [target {self.target}]" if self.target else ""
        return f"{self.name}: {value} {self.unit}{tail}{target}"


def compile_packages() -> None:
    """Compile the project's bytecode, as pip does for an installed package: an editable
    checkout under PYTHONDONTWRITEBYTECODE would recompile every process start, which no user's
    machine does (about 40 ms for the redactor's modules alone)."""
    import compileall

    root = Path(__file__).resolve().parents[2]
    for package in ("console", "store"):
        compileall.compile_dir(str(root / package), quiet=1)


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def available() -> list[str]:
    package = importlib.import_module("tests.bench")
    return sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )


def run(name: str) -> BenchResult:
    module = importlib.import_module(f"tests.bench.{name}")
    started = time.perf_counter()
    result: BenchResult = module.run()
    result.extra.setdefault("wall_seconds", round(time.perf_counter() - started, 3))
    RESULTS_DIR.mkdir(exist_ok=True)
    record = dataclasses.asdict(result) | {"ratio": result.ratio, "line": result.line()}
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return result
