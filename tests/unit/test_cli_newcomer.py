"""What a newcomer tripped over on the command line: `validate --json` printing nothing,
an export naming only the bare file, "1 requests", options not named in errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from console.cli import main
from console.commands import plural

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"


def test_plural():
    assert plural(1, "token") == "1 token"
    assert plural(0, "run") == "0 runs"
    assert plural(1_024, "request") == "1,024 requests"
    assert plural(2, "entry", "entries") == "2 entries"


def test_validate_json_prints_a_summary_even_for_a_good_file():
    result = CliRunner().invoke(main, ["batches", "validate", str(FIXTURES / "valid.jsonl"),
                                       "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"file": str(FIXTURES / "valid.jsonl"), "ok": True, "requests": 4,
                     "bad_lines": 0}]


def test_validate_json_gives_errors_then_the_summary():
    result = CliRunner().invoke(main, ["batches", "validate",
                                       str(FIXTURES / "malformed.jsonl"), "--json"])
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[-1]["ok"] is False and rows[-1]["bad_lines"] >= 1
    assert all("line" in row for row in rows[:-1]) and len(rows) > 1


def test_validate_text_says_1_request_not_1_requests(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text('{"key": "a", "prompt": "hello"}\n')
    result = CliRunner().invoke(main, ["batches", "validate", str(one)])
    assert result.exit_code == 0
    assert result.stderr.strip() == f"{one}: 1 request, ok"


def test_export_names_the_file_in_full(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(tmp_path / "g.sqlite3"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", "--out", "data.jsonl"])
    assert result.exit_code == 0, result.output
    assert f"to {tmp_path / 'data.jsonl'} " in result.stderr
    assert "0 interactions" in result.stderr


def test_since_errors_name_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(tmp_path / "g.sqlite3"))
    for argv, option in ((["cost", "--ledger", "--since", "abc"], "'--since'"),
                         (["logs", "list", "--until", "abc"], "'--until'"),
                         (["caches", "hits", "--since", "abc"], "'--since'")):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and option in result.stderr, result.stderr


def test_locate_results_is_in_the_data_folder(tmp_path):
    result = CliRunner().invoke(main, ["locate", "results"])
    data = CliRunner().invoke(main, ["locate", "data"])
    assert Path(result.output.strip()) == Path(data.output.strip()) / "results"
