"""Every bad input gets one line `Error: …` on stderr and a non-zero exit, never a traceback.

Each case runs the real `gemops` in a subprocess (what a person sees in a terminal), against an
emulator on loopback for the cases that reach the API, with its own data folder and database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.emulator import EmulatorConfig, EmulatorServer


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    """One emulator for the module: the cases only read from it or are refused before."""
    server = EmulatorServer(EmulatorConfig(seed=1234))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


def run_gemops(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", *args], capture_output=True,
                          text=True, env=env, input=stdin, timeout=120)


def environment(tmp_path: Path, api: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMOPS_API_KEY", "GEMOPS_DEBUG")}
    env.update({
        "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "GEMOPS_CONFIG_FILE": str(tmp_path / "no-config.toml"),
        "GEMOPS_STORE__PATH": str(tmp_path / "gemops.sqlite3"),
        "GEMOPS_GEMINI__BASE_URL": api,
    })
    env.update(extra)
    return env


# -- what each case needs on disk ----------------------------------------------------------


def corrupt_db(tmp: Path) -> dict[str, str]:
    path = tmp / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database, it only has its name " * 200)
    return {"GEMOPS_STORE__PATH": str(path)}


def newer_db(tmp: Path) -> dict[str, str]:
    path = tmp / "newer.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 9999")
        db.commit()
    return {"GEMOPS_STORE__PATH": str(path)}


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder nobody can write to. root ignores permission bits, so as root it is made
    immutable instead (chattr +i); where neither works, the case is skipped."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if made.returncode != 0:
        reason = f"cannot make a read-only folder as root here: {made.stderr!r}"
        if os.environ.get("CI") == "true":  # CI must show these cases, not pass them by
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def existing_db_in_read_only_folder(tmp: Path) -> dict[str, str]:
    folder = tmp / "ro-existing"
    folder.mkdir()
    with contextlib.closing(sqlite3.connect(folder / "gemops.sqlite3")) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    return {"GEMOPS_STORE__PATH": str(folder / "gemops.sqlite3"), "_READ_ONLY": str(folder)}


def new_db_in_read_only_folder(tmp: Path) -> dict[str, str]:
    folder = tmp / "ro-new"
    return {"GEMOPS_STORE__PATH": str(folder / "gemops.sqlite3"), "_READ_ONLY": str(folder)}


def read_only_data_folder(tmp: Path) -> dict[str, str]:
    """The default location (no GEMOPS_STORE__PATH) under a data folder that is read-only."""
    return {"GEMOPS_STORE__PATH": "", "_READ_ONLY": str(tmp / "data")}


def files(tmp: Path) -> dict[str, str]:
    (tmp / "invalid.toml").write_text('model = "gemini-2.5-flash"\nrequests = [\n')
    (tmp / "incomplete.toml").write_text('model = "gemini-2.5-flash"\nrequests = 10\n')
    (tmp / "negative.toml").write_text('model = "gemini-2.5-flash"\nrequests = -1\n'
                                       "input_tokens = 1\noutput_tokens = 1\n")
    (tmp / "a-folder").mkdir()
    (tmp / "latin1.txt").write_bytes("Caf\u00e9 cr\u00e8me, r\u00e9sum\u00e9\n".encode("latin-1")
                                     * 2000)
    (tmp / "big.txt").write_text("a sentence to cache, long enough to be worth it. " * 600)
    (tmp / "bad-settings.toml").write_text("[gemini\n")
    (tmp / "bad-values.toml").write_text('[gemini]\ntimeout_s = "soon"\n')
    (tmp / "bad-faults.toml").write_text("x = \n")
    return {}


# (id, argv with {tmp} for the case's folder, what makes the environment, words the error has)
CASES: list[tuple[str, list[str], Callable[[Path], dict[str, str]], str]] = [
    ("corrupt-database", ["logs", "list"], corrupt_db, "not a usable gemops database"),
    # The console itself says so before it opens, rather than showing empty panes.
    ("console-corrupt-database", [], corrupt_db, "not a usable gemops database"),
    ("console-newer-schema", [], newer_db, "is newer than this gemops"),
    ("console-read-only-folder", [], existing_db_in_read_only_folder, "read-only"),
    ("console-read-only-new-db", [], new_db_in_read_only_folder, "read-only"),
    ("corrupt-database-batches", ["batches", "list"], corrupt_db, "not a usable"),
    ("newer-schema", ["cost", "--ledger"], newer_db, "is newer than this gemops"),
    ("read-only-folder-existing-db", ["logs", "list"], existing_db_in_read_only_folder,
     "read-only"),
    ("read-only-folder-new-db", ["logs", "list"], new_db_in_read_only_folder, "read-only"),
    ("read-only-data-folder", ["batches", "list"], read_only_data_folder, "read-only"),
    ("cost-requests-negative", ["cost", "--requests", "-5", "--input-tokens", "10",
                                "--output-tokens", "10"], files, "--requests"),
    ("cost-queries-per-context-0", ["cost", "--requests", "5", "--input-tokens", "10",
                                    "--output-tokens", "10", "--queries-per-context", "0"],
     files, "--queries-per-context"),
    ("cost-cache-hours-negative", ["cost", "--requests", "5", "--input-tokens", "10",
                                   "--output-tokens", "10", "--cache-hours", "-1"], files,
     "--cache-hours"),
    ("cost-workload-invalid-toml", ["cost", "--workload", "{tmp}/invalid.toml"], files,
     "invalid.toml"),
    ("cost-workload-incomplete", ["cost", "--workload", "{tmp}/incomplete.toml"], files,
     "incomplete workload"),
    ("cost-workload-negative", ["cost", "--workload", "{tmp}/negative.toml"], files,
     "requests"),
    ("cost-prices-invalid-toml", ["cost", "--prices", "{tmp}/invalid.toml", "--requests", "1",
                                  "--input-tokens", "1", "--output-tokens", "1"], files,
     "price table"),
    ("cost-unknown-model", ["cost", "--model", "gemini-0-nope", "--requests", "1",
                            "--input-tokens", "1", "--output-tokens", "1"], files, "no price"),
    ("cost-since-not-a-date", ["cost", "--ledger", "--since", "abc"], files, "'--since'"),
    ("batches-show-missing", ["batches", "show", "no-such-job"], files, "no batch job"),
    ("batches-results-missing", ["batches", "results", "no-such-job"], files, "no batch job"),
    ("batches-cancel-missing", ["batches", "cancel", "no-such-job", "--yes"], files, "404"),
    ("batches-submit-folder", ["batches", "submit", "{tmp}/a-folder"], files, "directory"),
    ("batches-validate-missing", ["batches", "validate", "{tmp}/nope.jsonl"], files,
     "does not exist"),
    ("caches-create-folder", ["caches", "create", "-f", "{tmp}/a-folder"], files,
     "is a folder"),
    ("caches-create-ttl-too-long", ["caches", "create", "-f", "{tmp}/big.txt", "--ttl",
                                    "99999999999d"], files, "longer than the API accepts"),
    ("caches-create-ttl-zero", ["caches", "create", "-f", "{tmp}/big.txt", "--ttl", "0s"],
     files, "positive"),
    ("caches-create-latin1", ["caches", "create", "-f", "{tmp}/latin1.txt"], files,
     "not UTF-8 (byte 0xe9 at offset 3)"),
    ("caches-extend-missing", ["caches", "extend", "nope", "--by", "1h"], files, "no cache"),
    ("caches-hits-since", ["caches", "hits", "--since", "yesterday"], files, "'--since'"),
    ("export-since", ["export", "--since", "abc", "--out", "{tmp}/x.jsonl"], files,
     "'--since'"),
    ("export-until", ["export", "--until", "abc", "--out", "{tmp}/x.jsonl"], files,
     "'--until'"),
    ("export-no-folder", ["export", "--out", "{tmp}/no/such/folder/x.jsonl"], files,
     "does not exist"),
    ("logs-show-missing", ["logs", "show", "424242"], files, "no logged interaction"),
    ("logs-show-not-a-number", ["logs", "show", "abc"], files, "not a valid integer"),
    ("tiers-runs-0", ["tiers", "--prompt", "hi", "--runs", "0"], files, "runs per tier"),
    ("tiers-unknown-tier", ["tiers", "--prompt", "hi", "--tiers", "turbo"], files,
     "unknown tier"),
    ("tiers-timeout-negative", ["tiers", "--prompt", "hi", "--timeout-flex", "-1"], files,
     "--timeout-flex"),
    ("tiers-show-missing", ["tiers", "show", "999"], files, "no tier run"),
    ("webhooks-serve-no-secret", ["webhooks", "serve"], files, "--secret"),
    ("webhooks-serve-bad-port", ["webhooks", "serve", "--secret", "whsec_eA==", "--port",
                                 "70000"], files, "--port"),
    ("emulator-bad-faults", ["emulator", "--faults", "{tmp}/bad-faults.toml"], files,
     "bad-faults.toml"),
    ("settings-invalid-toml", ["logs", "list"],
     lambda tmp: files(tmp) | {"GEMOPS_CONFIG_FILE": str(tmp / "bad-settings.toml")},
     "bad-settings.toml"),
    ("settings-invalid-value", ["logs", "list"],
     lambda tmp: files(tmp) | {"GEMOPS_CONFIG_FILE": str(tmp / "bad-values.toml")},
     "gemini.timeout_s"),
    ("unknown-command", ["frobnicate"], files, "No such command"),
    ("unreachable-api", ["batches", "show", "x"],
     lambda tmp: {"GEMOPS_GEMINI__BASE_URL": "http://127.0.0.1:9"}, "cannot reach"),
]


@pytest.mark.parametrize(("argv", "prepare", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_line_and_a_non_zero_exit(tmp_path, api, argv, prepare, words):
    extra = prepare(tmp_path)
    folder = extra.pop("_READ_ONLY", None)
    env = environment(tmp_path, api, **extra)
    if env["GEMOPS_STORE__PATH"] == "":
        del env["GEMOPS_STORE__PATH"]
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with read_only(Path(folder)) if folder else contextlib.nullcontext():
        out = run_gemops(args, env)
    lines = out.stderr.splitlines()
    assert out.returncode != 0, out
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0] == lines[-1], out.stderr
    # Progress lines ("[0/3] counting tokens") may come first; the error is one line.
    assert all(not line.startswith(" ") for line in lines), out.stderr
    assert words in errors[0], errors[0]


def test_an_unexpected_failure_is_one_line_and_its_traceback_goes_to_the_log(tmp_path, api):
    """A bug (not bad input) still prints one line; the traceback is in `gemops locate log`."""
    env = environment(tmp_path, api)
    code = ("import console.services.pricing as p\n"
            "def broken(*a, **k):\n    raise RuntimeError('a bug')\n"
            "p.compare = broken\n"
            "from console.cli import run\nrun()\n")
    out = subprocess.run([sys.executable, "-c", code, "cost", "--requests", "1",
                          "--input-tokens", "1", "--output-tokens", "1"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Error: RuntimeError: a bug (an unexpected error")
    log = Path(run_gemops(["locate", "log"], env).stdout.strip())
    assert "Traceback" in log.read_text() and "RuntimeError: a bug" in log.read_text()
    shown = subprocess.run([sys.executable, "-c", code, "cost", "--requests", "1",
                            "--input-tokens", "1", "--output-tokens", "1"], capture_output=True,
                           text=True, env=env | {"GEMOPS_DEBUG": "1"}, timeout=60)
    assert "Traceback" in shown.stderr


def test_a_non_utf8_jsonl_line_is_located_by_line_and_byte(tmp_path, api):
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(b'{"key": "a", "prompt": "hello"}\n'
                    b'{"key": "b", "prompt": "caf\xe9"}\n')
    out = run_gemops(["batches", "validate", str(bad)], environment(tmp_path, api))
    assert out.returncode == 1 and "surrogates" not in out.stdout
    assert f"{bad}:2:" in out.stdout and "byte 0xe9 at byte offset 27" in out.stdout


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"


def test_submit_wait_finishes_and_writes_results_to_the_results_folder(tmp_path, api):
    """`--wait` used to crash after submitting (next_interval() missing an argument); and
    results went beside the input file, e.g. into a repository's fixtures."""
    env = environment(tmp_path, api, GEMOPS_SYNC__INTERVAL_S="0.2",
                      GEMOPS_SYNC__FAST_INTERVAL_S="0.2")
    source = tmp_path / "checkout" / "fixtures" / "waited.jsonl"
    source.parent.mkdir(parents=True)
    source.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    out = run_gemops(["batches", "submit", str(source), "--wait"], env)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    folder = Path(run_gemops(["locate", "results"], env).stdout.strip())
    results = folder / "waited.jsonl"
    assert folder.is_absolute() and results.exists()
    assert f"results: {results} (4 ok, 0 failed)" in out.stdout
    assert "(4 requests)" in out.stdout
    assert not (source.parent / "results").exists()
