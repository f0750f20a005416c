"""Run google-genai's own tests (shipped inside its wheel) against the emulator and classify
every test that does not pass.

The emulator runs in this process on a free loopback port; the SDK's tests run in a pytest
subprocess in `--mode api` (real HTTP calls, no replay files) from a temporary working
directory holding synthesized `tests/data/` files, and report through junit XML. Each failure
or error is matched against `expected.toml`; one the table does not list is classified
automatically only when it never reached the emulator (a host of its own, a missing data file
or module, an SDK refusal in Gemini mode) or asked for a resource whose id its own source
hard-codes (a fixture of the SDK authors' project). Anything else is *unexpected*: the run
prints it loudly and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from console.emulator import EmulatorConfig, EmulatorServer
from tests.sdk_suite import data

HERE = Path(__file__).resolve().parent
TABLE = HERE / "expected.toml"
RESULTS = HERE.parent / "bench" / "results" / "sdk_suite.json"
DEFAULT_MODULES = ("caches", "batches", "files", "models")
# Tests of these kinds are not run by default: they call a Google host, never the emulator.
NOT_RUN_KINDS = frozenset({"real-host"})


def sdk_tests_dir() -> Path:
    import google.genai

    return Path(google.genai.__file__).resolve().parent / "tests"


def sdk_version() -> str:
    return metadata.version("google-genai")


# --- the reason table -------------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` is the only wildcard (test ids hold `[` and `]`, which fnmatch would misread)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


@dataclass
class Reason:
    kind: str
    why: str
    tests: list[str]

    def __post_init__(self) -> None:
        self._globs = [_glob(t) for t in self.tests]

    def matches(self, test_id: str) -> bool:
        return any(p.match(test_id) for p in self._globs)


@dataclass
class Table:
    sdk_version: str
    kinds: dict[str, str]
    reasons: list[Reason]
    must_pass: list[str]

    def reason_for(self, test_id: str) -> Reason | None:
        return next((r for r in self.reasons if r.matches(test_id)), None)

    def patterns_of(self, kinds: frozenset[str]) -> list[str]:
        return [t for r in self.reasons if r.kind in kinds for t in r.tests]


def load_table(path: Path = TABLE) -> Table:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    kinds = dict(raw["kinds"])
    reasons = []
    for entry in raw["reason"]:
        if entry["kind"] not in kinds:
            raise ValueError(f"{path}: unknown reason kind {entry['kind']!r}")
        reasons.append(Reason(entry["kind"], entry["why"], list(entry["tests"])))
    return Table(raw["sdk_version"], kinds, reasons, list(raw["must_pass"]["tests"]))


# --- automatic classification of failures the table does not list -----------------------------

# The emulator listens on a loopback address: a failed name lookup never concerns it.
_NO_DNS = re.compile(
    r"Name or service not known|Temporary failure in name resolution"
    r"|nodename nor servname|getaddrinfo failed|ClientConnectorDNSError"
)
# An id in an error's first line: 10+ characters mixing letters and digits (not a model name).
_ID_TOKEN = re.compile(r"\b(?!gemini|models)[a-z0-9][a-z0-9_-]{9,}\b")
_RESOURCE_MISSING = re.compile(r"\b(403|404)\b.*(not found|NOT_FOUND|PERMISSION_DENIED|not exist)")


def auto_reason(test_id: str, message: str, source: str) -> tuple[str, str] | None:
    """(kind, why) for a failure that cannot be the emulator's, or None (then it is unexpected).

    `message` is the failure's text (first line: the exception), `source` the test module's.
    """
    first = message.strip().splitlines()[0] if message.strip() else ""
    if "ModuleNotFoundError" in message or "No module named" in first:
        return "missing-module", "an optional module the test imports is not installed"
    if "FileNotFoundError" in message and "/data/" in message:
        return "missing-data", "a data file the wheel does not ship"
    if "ValueError" in first and re.search(r"only supported in .* mode", first):
        return "vertex-only", "the SDK refuses the method in Gemini Developer API mode"
    if _NO_DNS.search(message):
        return "real-host", "the test sends its request to a host of its own, not the emulator"
    if _RESOURCE_MISSING.search(first):
        for token in sorted(set(_ID_TOKEN.findall(first))):
            quoted = re.search(rf"""['"/]{re.escape(token)}['"]""", source)
            if re.search(r"\d", token) and re.search(r"[a-z]", token) and quoted:
                return "google-fixture", f"asks for {token}, a resource its source hard-codes"
    return None


# --- running -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    test_id: str
    outcome: str  # passed | failed | error | skipped | not-run
    message: str = ""


@dataclass
class SuiteResult:
    sdk_version: str
    modules: list[str]
    outcomes: list[Outcome]
    wall_seconds: float
    data_files: list[str]
    returncode: int
    stderr_tail: str = ""
    nonpass: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    broken_must_pass: list[str] = field(default_factory=list)
    missing_must_pass: list[str] = field(default_factory=list)
    now_passing: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(o.outcome for o in self.outcomes)
        return {k: c.get(k, 0) for k in ("passed", "failed", "error", "skipped", "not-run")}

    @property
    def completed(self) -> bool:
        """pytest ran to the end: 0 all passed, 1 some failed (2-5: interrupted, crashed…)."""
        return self.returncode in (0, 1)

    @property
    def ok(self) -> bool:
        return (
            self.completed
            and not self.unexpected
            and not self.broken_must_pass
            and not self.missing_must_pass
        )


def _test_id(case: ET.Element) -> str:
    """`models/test_get.py::test_x[...]` from a junit testcase (rootdir = the SDK's tests)."""
    classname, name = case.get("classname", ""), case.get("name", "")
    if not classname:  # a collection error: the module is the name
        return name.replace(".", "/") + ".py"
    parts = classname.split(".")
    # A class-based test: the module is the longest prefix that exists as a file.
    tests = sdk_tests_dir()
    for cut in range(len(parts), 0, -1):
        module = "/".join(parts[:cut]) + ".py"
        if (tests / module).exists():
            return "::".join([module, *parts[cut:], name])
    return "/".join(parts) + ".py::" + name


def parse_junit(path: Path) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(path).iter("testcase"):
        test_id = _test_id(case)
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = "failed" if tag == "failure" else tag
                message = (node.get("message") or "") + "\n" + (node.text or "")
                break
        if outcome == "error" and test_id in outcomes:
            continue  # an error in teardown after a result; keep the first
        outcomes[test_id] = Outcome(test_id, outcome, message.strip())
    return list(outcomes.values())


def _subprocess_env(base_url: str, work: Path, deselect: list[str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "GOOGLE_", "GEMINI_")) and k != "COV_CORE_SOURCE"
    }
    env.update(
        PYTHONPATH=str(HERE / "harness"),
        GOOGLE_GEMINI_BASE_URL=base_url,
        GOOGLE_API_KEY="dummy",
        GOOGLE_GENAI_RUN_GEMINI_ONLY_IN_API_MODE="1",
        GOOGLE_GENAI_REPLAYS_DIRECTORY=str(work / "replays"),
        PYTHONDONTWRITEBYTECODE="1",
        SDK_SUITE_DESELECT="\n".join(deselect),
        SDK_SUITE_DESELECTED_OUT=str(work / "deselected.txt"),
    )
    return env


def run_suite(
    modules: list[str],
    workers: int = 0,
    verbose: bool = False,
    deselect: list[str] | None = None,
) -> SuiteResult:
    """Run the SDK's tests of `modules`; `deselect` (globs) are collected but not run."""
    tests = sdk_tests_dir()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sdk-suite-") as tmp:
        work = Path(tmp)
        (work / "replays").mkdir()
        (work / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
        )
        targets = [tests / m for m in modules]
        names = data.cwd_data_names([p for t in targets for p in sorted(t.rglob("*.py"))])
        built = data.synthesize(names, work)
        junit = work / "junit.xml"
        server = EmulatorServer(EmulatorConfig(seed=1234))
        server.start()
        try:
            cmd = [
                sys.executable, "-m", "pytest",
                "-c", str(work / "pytest.ini"), "--rootdir", str(tests), "--confcutdir", str(tests),
                "-o", "consider_namespace_packages=true",
                "-p", "emu_plugin", "-p", "no:cacheprovider", "--continue-on-collection-errors",
                "--mode=api", "-q", "--junitxml", str(junit),
                *(["-n", str(workers)] if workers else ["-p", "no:xdist"]),
                *map(str, targets),
            ]  # fmt: skip
            proc = subprocess.run(
                cmd,
                cwd=work,
                env=_subprocess_env(server.base_url, work, deselect or []),
                capture_output=not verbose,
                text=True,
                timeout=900,
            )
        finally:
            server.stop()
        if not junit.exists():
            raise RuntimeError(f"the SDK's tests produced no results:\n{proc.stderr or ''}")
        outcomes = parse_junit(junit)
        not_run = work / "deselected.txt"
        if not_run.exists():
            # Each xdist worker collects, and writes, the same ids.
            ids = dict.fromkeys(not_run.read_text(encoding="utf-8").splitlines())
            outcomes += [Outcome(test_id, "not-run") for test_id in ids]
    return SuiteResult(
        sdk_version=sdk_version(),
        modules=list(modules),
        outcomes=outcomes,
        wall_seconds=round(time.monotonic() - started, 2),
        data_files=built,
        returncode=proc.returncode,
        stderr_tail=(proc.stderr or "")[-2000:],
    )


# --- classification ------------------------------------------------------------------------


def _source_of(test_id: str) -> str:
    path = sdk_tests_dir() / test_id.split("::", 1)[0]
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:300]


def classify(result: SuiteResult, table: Table) -> SuiteResult:
    by_id = {o.test_id: o for o in result.outcomes}
    for o in result.outcomes:
        reason = table.reason_for(o.test_id)
        if o.outcome in ("passed", "skipped") or (o.outcome == "not-run" and reason is None):
            if o.outcome == "passed" and reason is not None:
                result.now_passing.append({"test": o.test_id, "kind": reason.kind})
            continue
        row: dict[str, Any] = {
            "test": o.test_id,
            "outcome": o.outcome,
            "message": _first_line(o.message),
        }
        if reason is not None:
            row.update(kind=reason.kind, why=reason.why, classified_by="table")
        elif (auto := auto_reason(o.test_id, o.message, _source_of(o.test_id))) is not None:
            row.update(kind=auto[0], why=auto[1], classified_by="auto")
        else:
            row.update(kind="unexpected", why="not in the reason table", classified_by="none")
            result.unexpected.append(row)
        result.nonpass.append(row)
    same_sdk = result.sdk_version == table.sdk_version
    modules = tuple(f"{m}/" for m in result.modules)
    for pattern in table.must_pass:
        if not pattern.startswith(modules):
            continue
        matched = [o for tid, o in by_id.items() if _glob(pattern).match(tid)]
        # Skips are the SDK's own (Vertex variants); a pattern needs one pass and no failure.
        result.broken_must_pass += [o.test_id for o in matched if o.outcome in ("failed", "error")]
        if not any(o.outcome == "passed" for o in matched) and same_sdk:
            # A newer SDK may rename or drop a test; with the table's own version it is a bug.
            result.missing_must_pass.append(pattern)
    return result


# --- reporting ---------------------------------------------------------------------------------


def summary(result: SuiteResult) -> str:
    c = result.counts()
    lines = [
        f"google-genai {result.sdk_version} own tests ({', '.join(result.modules)}) "
        f"against the emulator: {c['passed']} passed, {c['failed']} failed, "
        f"{c['error']} errors, {c['skipped']} skipped, {c['not-run']} not run "
        f"in {result.wall_seconds:.1f} s",
    ]
    kinds = Counter(row["kind"] for row in result.nonpass)
    if kinds:
        lines.append("not passing, by reason kind:")
        lines += [f"  {kind:<16} {n}" for kind, n in kinds.most_common()]
    auto = [r for r in result.nonpass if r["classified_by"] == "auto"]
    if auto:
        lines.append(f"{len(auto)} not in the table, classified by their failure:")
        lines += [f"  [{r['kind']}] {r['test']}" for r in auto]
    if result.now_passing:
        lines.append(f"{len(result.now_passing)} listed as not passing now pass (trim the table):")
        lines += [f"  {r['test']}" for r in result.now_passing]
    if result.unexpected:
        lines.append("")
        lines.append(f"!!! {len(result.unexpected)} UNEXPECTED FAILURES (not in expected.toml):")
        lines += [f"!!!   {r['test']}\n!!!       {r['message']}" for r in result.unexpected]
    if result.broken_must_pass:
        lines.append(f"!!! {len(result.broken_must_pass)} tests that must pass did not:")
        lines += [f"!!!   {t}" for t in result.broken_must_pass]
    if not result.completed:
        lines.append(f"!!! pytest did not run to the end (exit code {result.returncode}):")
        lines += [f"!!!   {line}" for line in result.stderr_tail.splitlines()[-15:]]
    if result.missing_must_pass:
        lines.append("!!! must-pass patterns that matched no test:")
        lines += [f"!!!   {t}" for t in result.missing_must_pass]
    return "\n".join(lines)


def write_results(result: SuiteResult, path: Path = RESULTS) -> None:
    c = result.counts()
    record = {
        "name": "sdk_suite",
        "sdk_version": result.sdk_version,
        "modules": result.modules,
        "counts": c,
        "wall_seconds": result.wall_seconds,
        "by_kind": dict(Counter(row["kind"] for row in result.nonpass).most_common()),
        "skipped_reasons": dict(
            Counter(
                _first_line(o.message) for o in result.outcomes if o.outcome == "skipped"
            ).most_common()
        ),
        "data_files_synthesized": result.data_files,
        "unexpected": [r["test"] for r in result.unexpected],
        "broken_must_pass": result.broken_must_pass,
        "now_passing": result.now_passing,
        "nonpass": result.nonpass,
        "passed": sorted(o.test_id for o in result.outcomes if o.outcome == "passed"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sdk_suite", description=__doc__)
    parser.add_argument("--modules", default=",".join(DEFAULT_MODULES))
    parser.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    parser.add_argument(
        "--run-real-host",
        action="store_true",
        help="also run the tests that send to a Google host of their own (they fail offline)",
    )
    args = parser.parse_args(argv)
    modules = [m.strip().strip("/") for m in args.modules.split(",") if m.strip()]
    table = load_table()
    deselect = [] if args.run_real_host else table.patterns_of(NOT_RUN_KINDS)
    result = classify(run_suite(modules, args.workers, args.verbose, deselect), table)
    print(summary(result))
    if not args.no_write:
        write_results(result)
    return 0 if result.ok else 1
