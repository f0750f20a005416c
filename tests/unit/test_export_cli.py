"""`gemops export` and `gemops logs` from a shell: filters, summary, stdout, clear errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from console.bootstrap import make_workspace
from console.cli import main
from tests.unit.test_export import seed_interactions


@pytest.fixture
def seeded(settings, frozen_clock, monkeypatch):
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    ws = make_workspace(settings, clock=frozen_clock)
    ids = seed_interactions(ws)
    ws.close()
    return ids


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_export_filters_and_prints_a_summary(seeded, tmp_path):
    out = tmp_path / "support.jsonl"
    result = run("export", "--label", "dataset=support-v2", "--source", "console",
                 "--since", "2026-09-19", "--until", "2026-09-21", "--format", "gemini",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and all(line["contents"][-1]["role"] == "model" for line in lines)
    assert f"exported 2 interactions (62 prompt + 24 output + 0 thought tokens) as gemini to {out}" in result.stderr


def test_export_to_stdout_for_a_pipeline(seeded):
    result = run("export", "--model", "gemini-2.5-pro", "--format", "csv", "--out", "-")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:6] == ["id", "time", "model", "tier", "source", "labels"]
    assert [r[2] for r in rows[1:]] == ["gemini-2.5-pro", "gemini-2.5-pro"]
    assert rows[1][11] == "Which IBAN do I pay to?\nMine is [IBAN_REDACTED]."
    assert "exported 2 interactions" in result.stderr


def test_export_refuses_bad_input_clearly(seeded, tmp_path):
    result = run("export", "--since", "yesterday-ish", "--out", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    result = run("export", "--label", "dataset", "--out", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 2 and "key=value" in result.stderr
    result = run("export", "--out", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_logs_list_and_show(seeded):
    result = run("logs", "list", "--label", "dataset=support-v2", "--limit", "2")
    assert result.exit_code == 0
    assert "showing 2 of 3 interactions · 126 prompt + 38 output tokens" in result.stdout
    listed = run("logs", "list", "--json")
    ids = [json.loads(line)["id"] for line in listed.stdout.splitlines()]
    assert ids == sorted(seeded, reverse=True)
    shown = run("logs", "show", str(seeded[1]))
    assert "Call me on [PHONE_REDACTED] please." in shown.stdout
    as_json = json.loads(run("logs", "show", str(seeded[1]), "--json").stdout)
    assert as_json["labels"] == {"dataset": "support-v2", "run": "t1"}
    assert len(as_json["contents"]) == 3
    missing = run("logs", "show", "999")
    assert missing.exit_code == 1 and "no logged interaction 999" in missing.stderr
