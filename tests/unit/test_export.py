"""Dataset export: the three formats against golden files, filters, streaming, atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from console.bootstrap import make_workspace
from console.services.export import (
    ExportCancelled,
    ExportError,
    export_interactions,
    export_to_stream,
    make_filter,
    parse_moment,
)
from console.services.interactions import record_interaction
from console.services.pricing import Usage
from tests.conftest import FROZEN_NOW

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "export"
HOUR = 3600.0

# (hours before the frozen now, model, tier, source, labels, system, contents, response, usage)
SEED = [
    (50, "gemini-2.5-flash", "standard", "console", {"dataset": "support-v2"},
     "You are a support agent for Northwind.",
     "My card 4111 1111 1111 1111 was charged twice, email me at jane.doe@example.com",
     "Sorry about that! I have refunded the duplicate charge to the card ending 1111.",
     Usage(42, 0, 18)),
    (49, "gemini-2.5-flash", "flex", "tiers", {"dataset": "support-v2", "run": "t1"},
     None,
     [{"role": "user", "parts": [{"text": "Call me on +44 20 7946 0958 please."}]},
      {"role": "model", "parts": [{"text": "Of course, when suits you?"}]},
      {"role": "user", "parts": [{"text": "After 5pm; my SSN is 123-45-6789 if needed."}]}],
     "We never need your SSN. A colleague will call after 5pm.",
     Usage(64, 0, 14, thought_tokens=20)),
    (30, "gemini-2.5-pro", "priority", "drop", {"dataset": "billing"},
     "Answer in one sentence.",
     ["Which IBAN do I pay to?", "Mine is DE89 3704 0044 0532 0130 00."],
     "Please pay to the IBAN on your invoice.",
     Usage(30, 0, 9)),
    (20, "gemini-2.5-pro", "standard", "batch", {},
     None,
     "Summarise: the server at 10.0.4.17 rejected key AIzaSyA1234567890abcdefghijklmnopqrstuv",
     "The server at [IP] rejected an API key; rotate it.",
     Usage(25, 0, 11)),
    (2, "gemini-2.5-flash", "standard", "console", {"dataset": "support-v2"},
     "You are a support agent for Northwind.",
     "Where is my order? Contact: bob@example.org",
     "Your order ships tomorrow.",
     Usage(20, 0, 6)),
]  # fmt: skip


def seed_interactions(ws) -> list[int]:
    """Five sanitized interactions at fixed times: models, tiers, sources, labels, turns."""
    ids = []
    for hours, model, tier, source, labels, system, contents, response, usage in SEED:
        ids.append(
            record_interaction(
                ws, model=model, tier=tier, source=source, contents=contents,
                system_instruction=system, response_text=response, usage=usage,
                cost=round(usage.prompt_tokens * 1e-6, 6), labels=labels, log=True,
                at=FROZEN_NOW - hours * HOUR,
            )
        )
    return ids


@pytest.fixture
def ws(settings, frozen_clock):
    workspace = make_workspace(settings, clock=frozen_clock)
    yield workspace
    workspace.close()


@pytest.mark.parametrize(
    ("fmt", "golden"), [("gemini", "gemini.jsonl"), ("openai", "openai.jsonl"), ("csv", "csv.csv")]
)
def test_each_format_matches_its_golden_file(ws, tmp_path, fmt, golden):
    seed_interactions(ws)
    out = tmp_path / golden
    summary = export_interactions(ws, out, fmt=fmt)
    assert summary.rows == 5
    assert summary.prompt_tokens == 42 + 64 + 30 + 25 + 20
    assert summary.output_tokens == 18 + 14 + 9 + 11 + 6
    assert summary.thought_tokens == 20
    assert summary.bytes == out.stat().st_size
    if os.environ.get("UPDATE_GOLDEN"):  # regenerate: UPDATE_GOLDEN=1 pytest …, then review
        (GOLDEN / golden).write_bytes(out.read_bytes())
    assert out.read_bytes() == (GOLDEN / golden).read_bytes()


def test_gemini_lines_are_the_tuning_shape(ws, tmp_path):
    seed_interactions(ws)
    out = tmp_path / "g.jsonl"
    export_interactions(ws, out, fmt="gemini")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    first, second = lines[0], lines[1]
    assert first["systemInstruction"] == {
        "role": "system", "parts": [{"text": "You are a support agent for Northwind."}]
    }
    assert [t["role"] for t in first["contents"]] == ["user", "model"]
    assert "systemInstruction" not in second
    assert [t["role"] for t in second["contents"]] == ["user", "model", "user", "model"]
    # Redacted before it was stored, so the export carries tokens, never the values.
    assert "[CARD_REDACTED]" in first["contents"][0]["parts"][0]["text"]
    assert "[EMAIL_REDACTED]" in first["contents"][0]["parts"][0]["text"]
    # A list of strings is one user turn of several parts, as the SDK sends it.
    assert [p["text"] for p in lines[2]["contents"][0]["parts"]] == [
        "Which IBAN do I pay to?", "Mine is [IBAN_REDACTED]."
    ]


def test_openai_messages_and_csv_columns(ws, tmp_path):
    seed_interactions(ws)
    export_interactions(ws, tmp_path / "o.jsonl", fmt="openai")
    second = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[1])
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user", "assistant"]
    export_interactions(ws, tmp_path / "c.csv", fmt="csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    assert rows[1]["prompt"] == "After 5pm; my SSN is [SSN_REDACTED] if needed."
    assert rows[1]["labels"] == "dataset=support-v2;run=t1"
    assert rows[1]["time"] == "2026-09-19T13:13:20.000Z"
    assert rows[3]["labels"] == ""


def test_filters_by_label_model_source_and_dates(ws, tmp_path):
    seed_interactions(ws)

    def rows(**criteria) -> int:
        flt = make_filter(now=FROZEN_NOW, **criteria)
        return export_interactions(ws, tmp_path / "f.jsonl", fmt="gemini", flt=flt).rows

    assert rows(labels=["dataset=support-v2"]) == 3
    assert rows(labels=["dataset=support-v2", "run=t1"]) == 1
    assert rows(models=["gemini-2.5-pro"]) == 2
    assert rows(models=["models/gemini-2.5-pro"]) == 2
    assert rows(sources=["console", "drop"]) == 3
    assert rows(since="24h") == 2
    assert rows(since="2026-09-19", until="2026-09-20") == 4  # whole days, both included
    assert rows(until="2026-09-19") == 2
    assert rows(text="IBAN") == 1
    assert rows(labels=["dataset=none"]) == 0


def test_bad_filters_and_destinations_say_what_is_wrong(ws, tmp_path):
    with pytest.raises(ExportError, match="key=value"):
        make_filter(labels=["dataset"])
    with pytest.raises(ExportError, match="YYYY-MM-DD"):
        make_filter(since="last tuesday")
    with pytest.raises(ExportError, match="after"):
        make_filter(since="2026-09-20", until="2026-09-01")
    with pytest.raises(ExportError, match="does not exist"):
        export_interactions(ws, tmp_path / "missing" / "x.jsonl")
    with pytest.raises(ExportError, match="unknown format"):
        export_interactions(ws, tmp_path / "x.jsonl", fmt="parquet")
    assert parse_moment("2026-09-21") == FROZEN_NOW - 51_200  # midnight UTC
    assert parse_moment("7d", now=FROZEN_NOW) == FROZEN_NOW - 7 * 86_400
    assert parse_moment("2026-09-21", end_of_day=True) == parse_moment("2026-09-22")


def test_a_stopped_export_leaves_no_file_and_keeps_the_old_one(ws, tmp_path, monkeypatch):
    import console.services.export as export

    seed_interactions(ws)
    out = tmp_path / "keep.jsonl"
    out.write_text("the previous export\n")
    monkeypatch.setattr(export, "PROGRESS_EVERY", 1)
    monkeypatch.setattr("store.repos.interactions.STREAM_CHUNK", 2)
    seen: list[tuple[int, int]] = []
    with pytest.raises(ExportCancelled):
        export_interactions(
            ws, out, fmt="gemini", progress=lambda done, total: seen.append((done, total)),
            should_stop=lambda: len(seen) > 1,
        )
    assert out.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gemops.sqlite3", "gemops.sqlite3-shm",
                                                         "gemops.sqlite3-wal", "keep.jsonl"]
    assert seen[0] == (0, 5)


def test_progress_reaches_the_total_and_stdout_export_counts_bytes(ws, tmp_path):
    seed_interactions(ws)
    seen: list[tuple[int, int]] = []
    export_interactions(ws, tmp_path / "p.jsonl", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    sink = io.BytesIO()
    summary = export_to_stream(ws, sink, fmt="openai")
    assert summary.rows == 5 and summary.bytes == len(sink.getvalue())
    assert "exported 5 interactions" in summary.line()
