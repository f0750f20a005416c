"""Interaction logging end to end: real SDK calls through the gateway to the emulator, the
observer, the background writer, SQLite, exports and the application log."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from pathlib import Path

import pytest

from console.bootstrap import make_workspace
from console.services.export import export_interactions, make_filter
from console.services.interactions import (
    flush_interactions,
    interaction_count,
    logging_run,
    recent_interactions,
    record_interaction,
)
from console.services.pricing import Usage
from console.settings import LimitSpec

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "corpus.jsonl"
TYPES = {"email", "phone", "card", "ssn", "iban", "ip", "secret"}
MODEL = "gemini-2.5-flash"
UNLIMITED = {"rpm": 0, "tpm": 0, "rpd": 0}


def pii_records(n: int) -> list[dict]:
    """`n` corpus records that carry entities, covering every entity type and secret kind."""
    with CORPUS.open(encoding="utf-8") as fh:
        records = [r for r in map(json.loads, fh) if r["entities"]]
    chosen = records[:n]
    assert len(chosen) == n
    assert {e["type"] for r in chosen for e in r["entities"]} == TYPES
    return chosen


def raw_values(records: list[dict]) -> set[str]:
    """Every entity as it appeared, plus its JSON-escaped form and each line of a multi-line
    value (a PEM key), so a leak is found whichever way it was written."""
    values: set[str] = set()
    for record in records:
        for entity in record["entities"]:
            value = record["text"][entity["start"] : entity["end"]]
            values.add(value)
            values.add(json.dumps(value)[1:-1])
            values.update(line for line in value.splitlines() if len(line) >= 16)
    return values


def close(ws) -> None:
    # Ledger rows still buffered at close wait on Workspace.close()'s lock (reported to the
    # lead); flushing first keeps these tests from stalling on it.
    if ws.connected:
        ws.gateway.flush_ledger()
    ws.close()


def leaks(blob: bytes, values: set[str]) -> list[str]:
    return sorted(v for v in values if _occurs(v.encode(), blob))


# A value this short (`::1`) also turns up by chance in a database page's binary fields (a
# REAL's mantissa, a WAL frame's checksum): CI once found `::1` in the WAL of a run whose text
# held none. A short value counts as leaked where it stands as a word with printable text on
# at least one side (a column holding just the value still has its neighbour's text).
_SHORT = 8


def _occurs(value: bytes, blob: bytes) -> bool:
    if len(value) >= _SHORT:
        return value in blob
    word = rb"(?<![0-9A-Za-z:.])" + re.escape(value) + rb"(?![0-9A-Za-z:.])"
    in_text = rb"(?:(?<=[ -~]{4})" + word + rb"|" + word + rb"(?=[ -~]{4}))"
    return re.search(in_text, blob) is not None


@pytest.fixture
def app_log(tmp_path):
    """The application log: everything any logger says, at DEBUG, into a file."""
    path = tmp_path / "gemops.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(previous)
    handler.close()


@pytest.fixture
def logging_ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.logging.enabled = True
    settings.logging.labels = {"dataset": "pii-scan"}
    settings.limits.models[MODEL] = LimitSpec(rpm=1_000_000, tpm=1_000_000_000)
    emulator.config.quotas[MODEL].rpm = 0
    emulator.config.quotas[MODEL].tpm = 0
    emulator.config.quotas[MODEL].rpd = 0
    ws = make_workspace(settings)
    yield ws
    close(ws)


def _shapes(record: dict, i: int):
    """The same text sent in each shape the SDK takes: a string, parts, multi-turn dicts."""
    text = record["text"]
    if i % 4 == 0:
        return text
    if i % 4 == 1:
        middle = len(text) // 2
        return [text[:middle], text[middle:]]  # may split an entity: both halves still redact
    if i % 4 == 2:
        return [{"role": "user", "parts": [{"text": text}]}]
    return [
        {"role": "user", "parts": [{"text": "Here is the ticket."}]},
        {"role": "model", "parts": [{"text": f"Noted: {text}"}]},
        {"role": "user", "parts": [{"text": text}]},
    ]


def test_a_thousand_logged_interactions_leave_no_raw_pii_anywhere(logging_ws, tmp_path, app_log):
    ws = logging_ws
    records = pii_records(1000)
    values = raw_values(records)
    through_gateway, direct = records[:800], records[800:]
    sources = ["console", "drop", "tiers"]

    async def send(chunk: list[tuple[int, dict]]) -> None:
        calls = []
        for i, record in chunk:
            # Every fifth call has PII in its system instruction too.
            config = {"system_instruction": record["text"]} if i % 5 == 0 else {}
            calls.append(
                ws.gateway.generate(MODEL, _shapes(record, i), config, source=sources[i % 3])
            )
        await asyncio.gather(*calls)

    indexed = list(enumerate(through_gateway))
    for start in range(0, len(indexed), 100):
        ws.gateway.run(send(indexed[start : start + 100]), timeout=120)
    # Batch results arrive by the direct call, in pseudonym mode for half of them.
    for i, record in enumerate(direct):
        ws.settings.logging.redaction = "pseudonym" if i % 2 else "token"
        record_interaction(
            ws, model=MODEL, tier="batch", source="batch", contents=_shapes(record, i),
            system_instruction=record["text"] if i % 3 == 0 else None,
            response_text=f"Re: {record['text']}", usage=Usage(100, 0, 20), cost=0.001,
            labels={"batch": "b1"},
        )
    assert flush_interactions(ws, timeout=60)
    assert interaction_count(ws) == 1000
    flt = make_filter(labels=["dataset=pii-scan"])
    exports = [
        export_interactions(ws, tmp_path / f"all.{fmt}", fmt=fmt, flt=flt)
        for fmt in ("gemini", "openai", "csv")
    ]
    assert [e.rows for e in exports] == [1000, 1000, 1000]

    db = ws.settings.db_path
    scanned = {
        path.name: path.read_bytes()
        for path in [db, db.with_name(db.name + "-wal"), app_log,
                     *(Path(e.path) for e in exports)]
    }
    assert len(scanned[db.name + "-wal"]) > 0  # the rows were still in the WAL: it was scanned
    assert b"HTTP Request: POST" in scanned["gemops.log"]  # the log did record the calls
    found = {name: leaks(blob, values) for name, blob in scanned.items()}
    assert found == {name: [] for name in scanned}

    # The scan is not vacuous: the same values are found in the text they came from.
    control = "\n".join(r["text"] for r in records).encode()
    assert len(leaks(control, values)) > 0.9 * len(values)
    # ...and the redaction tokens are what was logged in their place.
    rows = recent_interactions(ws, limit=1000)
    tokens = "".join(r.contents_json for r in rows)
    for etype in TYPES:
        assert f"[{etype.upper()}_REDACTED]" in tokens
    assert "[EMAIL_1]" in tokens  # the pseudonym half


def test_sampling_labels_and_per_run_toggle_through_the_gateway(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.logging.sample_every = 3
    settings.logging.labels = {"team": "support"}
    ws = make_workspace(settings)
    try:
        def call(prompt: str, source: str = "console") -> None:
            ws.gateway.run(ws.gateway.generate(MODEL, prompt, source=source))

        call("not logged: logging is off")
        flush_interactions(ws)
        assert interaction_count(ws) == 0
        with logging_run(ws, source="tiers", labels={"run": "t7"}):
            for n in range(7):
                call(f"tier call {n}", source="tiers")
            call("a console call is not in the tiers run")
        flush_interactions(ws)
        rows = recent_interactions(ws)
        # Every 3rd of the run's 7 calls, starting with the first: calls 0, 3 and 6.
        assert [json.loads(r.contents_json)[0]["parts"][0]["text"] for r in rows] == [
            "tier call 6", "tier call 3", "tier call 0"
        ]
        assert all(r.labels == {"team": "support", "run": "t7"} for r in rows)
        assert all(r.source == "tiers" and r.model == MODEL for r in rows)
        assert all(r.prompt_tokens > 0 and r.output_tokens > 0 for r in rows)
        # The emulator echoes the prompt's first words: the response was logged with it.
        assert "tier call 6" in rows[0].response_text
    finally:
        close(ws)


def test_a_failing_store_never_fails_the_call_nor_leaks_its_text(settings, emulator, caplog):
    settings.gemini.base_url = emulator.base_url
    settings.logging.enabled = True
    settings.logging.redaction = "neither"  # a bad setting: the writer fails on every row
    ws = make_workspace(settings)
    secret = "jane.roe@example.com"
    try:
        with caplog.at_level(logging.DEBUG):
            generation = ws.gateway.run(ws.gateway.generate(MODEL, f"mail {secret} now"))
            assert generation.text
            flush_interactions(ws)
        assert interaction_count(ws) == 0
        assert "1 interactions not written (ValueError)" in caplog.text
        assert secret not in caplog.text
    finally:
        close(ws)


def test_random_calls_keep_pseudonyms_consistent_within_one_interaction(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    settings.logging.enabled = True
    settings.logging.redaction = "pseudonym"
    ws = make_workspace(settings)
    rng = random.Random(8)
    try:
        emails = [f"user{rng.randint(100, 999)}@example.com" for _ in range(2)]
        ws.gateway.run(ws.gateway.generate(
            MODEL,
            [{"role": "user", "parts": [{"text": f"{emails[0]} wrote to {emails[1]}"}]},
             {"role": "model", "parts": [{"text": f"Reply to {emails[0]}?"}]},
             {"role": "user", "parts": [{"text": f"No, to {emails[1]}"}]}],
            {"system_instruction": f"The account owner is {emails[1]}."},
        ))
        flush_interactions(ws)
        (row,) = recent_interactions(ws)
        assert row.system_instruction == "The account owner is [EMAIL_1]."
        turns = json.loads(row.contents_json)
        assert turns[0]["parts"][0]["text"] == "[EMAIL_2] wrote to [EMAIL_1]"
        assert turns[1]["parts"][0]["text"] == "Reply to [EMAIL_2]?"
        assert turns[2]["parts"][0]["text"] == "No, to [EMAIL_1]"
    finally:
        close(ws)
