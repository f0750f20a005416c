"""Interaction logging: shapes of contents, redaction scopes, switches, sampling, labels, the
background writer, and the store's filtered queries."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest
from google.genai import types

from console.bootstrap import make_workspace
from console.services.gateway import Exchange, Generation
from console.services.interactions import (
    InteractionLog,
    interaction_count,
    logging_enabled,
    logging_run,
    recent_interactions,
    record_interaction,
    render_interaction,
    sanitize,
    set_session_logging,
)
from console.services.pricing import Usage
from console.services.redact import Redactor, redact
from store.records import InteractionFilter
from store.repos import interactions as repo
from tests.conftest import FROZEN_NOW

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "corpus.jsonl"


@pytest.fixture
def ws(settings, frozen_clock):
    workspace = make_workspace(settings, clock=frozen_clock)
    yield workspace
    workspace.close()


def log(ws, text: str = "hello", **kwargs) -> int | None:
    values = dict(
        model="gemini-2.5-flash", tier="standard", source="console", contents=text,
        system_instruction=None, response_text="ok", usage=Usage(10, 0, 5), cost=0.001,
    )
    return record_interaction(ws, **(values | kwargs))


def texts(turns) -> list[list[str]]:
    return [[p.get("text") for p in t["parts"]] for t in turns]


# -- shapes ------------------------------------------------------------------------------------


def test_every_shape_of_contents_becomes_redacted_rest_turns():
    r = Redactor()
    assert sanitize("mail a.b@example.com", r) == [
        {"role": "user", "parts": [{"text": "mail [EMAIL_REDACTED]"}]}
    ]
    # Consecutive strings and parts are one user turn, as the SDK sends them.
    assert texts(sanitize(["one", {"text": "two"}], r)) == [["one", "two"]]
    turns = sanitize(
        [
            {"role": "user", "parts": [{"text": "my SSN 123-45-6789"}]},
            {"role": "model", "parts": [{"text": "noted"}, {"text": "think", "thought": True}]},
            "and a loose follow-up",
        ],
        r,
    )
    assert [t["role"] for t in turns] == ["user", "model", "user"]
    assert texts(turns) == [["my SSN [SSN_REDACTED]"], ["noted", "think"], ["and a loose follow-up"]]
    assert turns[1]["parts"][1]["thought"] is True


def test_sdk_objects_binary_data_and_function_calls():
    r = Redactor()
    content = types.Content(
        role="user",
        parts=[
            types.Part(text="see a@example.com"),
            types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG secret")),
            types.Part.from_function_call(name="lookup", args={"email": "b@example.com", "n": 3}),
        ],
    )
    (turn,) = sanitize([content], r)
    assert turn["parts"][0] == {"text": "see [EMAIL_REDACTED]"}
    # Bytes are never kept: an image may hold PII no text scan can find.
    assert turn["parts"][1] == {"inlineData": {"mimeType": "image/png"}}
    assert turn["parts"][2] == {
        "functionCall": {"args": {"email": "[EMAIL_REDACTED]", "n": 3}, "name": "lookup"}
    }
    # REST-shaped base64 data is dropped too; an unknown object is named, not serialised.
    (turn,) = sanitize(
        [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/jpeg", "data": "QUJD"}}]}],
        r,
    )
    assert turn["parts"] == [{"inlineData": {"mimeType": "image/jpeg"}}]
    assert sanitize([object()], r) == [{"role": "user", "parts": [{"omitted": "object"}]}]


def test_entities_split_across_parts_are_still_found():
    """A long document sent in chunks can cut an entity in two: parts are redacted as the one
    text the model reads, and no piece of the entity survives in either part."""
    records = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    rng = random.Random(6)
    r = Redactor()
    checked = 0
    for record in records[:400]:
        text = record["text"]
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(3, len(text) + 1)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        (turn,) = sanitize([{"role": "user", "parts": [{"text": p} for p in pieces]}], r)
        out = [p["text"] for p in turn["parts"]]
        assert len(out) == len(pieces)
        assert "".join(out) == redact(text)
        for entity in record["entities"]:
            value = text[entity["start"] : entity["end"]]
            assert all(value not in part for part in out)
            checked += 1
    assert checked > 300


# -- record_interaction ------------------------------------------------------------------------


def test_nothing_is_logged_unless_switched_on(ws):
    assert log(ws) is None
    assert interaction_count(ws) == 0
    ws.settings.logging.enabled = True
    assert isinstance(log(ws), int)
    assert log(ws, log=False) is None
    assert interaction_count(ws) == 1


def test_sampling_logs_every_nth_and_an_explicit_call_skips_it(ws):
    ws.settings.logging.enabled = True
    ws.settings.logging.sample_every = 3
    logged = [log(ws, f"call {n}") is not None for n in range(7)]
    assert logged == [True, False, False, True, False, False, True]
    assert log(ws, log=True) is not None


def test_one_pseudonym_scope_per_interaction(ws):
    ws.settings.logging.enabled = True
    ws.settings.logging.redaction = "pseudonym"
    first = log(
        ws,
        contents=[{"role": "user", "parts": [{"text": "from x@example.com to y@example.com"}]}],
        system_instruction="Owner: y@example.com",
        response_text="Replying to X@Example.com",
    )
    second = log(ws, contents="again y@example.com")
    rows = {r.id: r for r in recent_interactions(ws)}
    a, b = rows[first], rows[second]
    assert a.system_instruction == "Owner: [EMAIL_1]"
    assert texts(json.loads(a.contents_json)) == [["from [EMAIL_2] to [EMAIL_1]"]]
    assert a.response_text == "Replying to [EMAIL_2]"  # emails compare case-insensitively
    # A new interaction numbers from 1 again: pseudonyms never link two interactions.
    assert texts(json.loads(b.contents_json)) == [["again [EMAIL_1]"]]


def test_labels_merge_settings_then_runs_then_the_call(ws):
    ws.settings.logging.enabled = True
    ws.settings.logging.labels = {"dataset": "base", "team": "support"}
    with logging_run(ws, labels={"dataset": "run", "run": "7"}):
        iid = log(ws, labels={"run": "call"})
    (row,) = recent_interactions(ws)
    assert row.id == iid
    assert row.labels == {"dataset": "run", "team": "support", "run": "call"}
    with pytest.raises(ValueError, match="label keys"):
        log(ws, labels={"a=b": "c"})


def test_per_run_and_session_switches(ws):
    assert not logging_enabled(ws, "tiers")
    with logging_run(ws, source="tiers"):
        assert logging_enabled(ws, "tiers")
        assert not logging_enabled(ws, "console")  # a run covers its own source only
        assert log(ws, source="tiers") is not None
        assert log(ws, source="console") is None
        with logging_run(ws, source="tiers", enabled=False):  # the innermost run wins
            assert log(ws, source="tiers") is None
    assert not logging_enabled(ws, "tiers")
    set_session_logging(ws, True)
    assert logging_enabled(ws, "console")
    with logging_run(ws, enabled=False):  # every source
        assert log(ws, source="drop") is None
    set_session_logging(ws, None)
    assert not logging_enabled(ws)
    ws.settings.logging.enabled = True
    assert logging_enabled(ws)


def test_a_bad_redaction_setting_fails_clearly_without_the_text(ws):
    ws.settings.logging.enabled = True
    ws.settings.logging.redaction = "hash"
    with pytest.raises(ValueError) as caught:
        log(ws, "mail secret.person@example.com")
    assert "token' or 'pseudonym" in str(caught.value)
    assert "secret.person" not in str(caught.value)


def test_render_shows_everything_sanitized(ws):
    ws.settings.logging.enabled = True
    log(ws, contents=["q", {"inline_data": {"mime_type": "image/png", "data": b"x"}}],
        system_instruction="sys", labels={"k": "v"}, at=FROZEN_NOW)
    (row,) = recent_interactions(ws)
    text = render_interaction(row)
    assert "2026-09-21 14:13:20 UTC" in text and "labels k=v" in text
    assert "── system ──\nsys" in text and "[inlineData image/png]" in text
    assert text.endswith("── response ──\nok")


# -- the observer and its writer ---------------------------------------------------------------


def exchange(text: str, source: str = "console") -> Exchange:
    generation = Generation(
        model="gemini-2.5-flash", text=f"re: {text}", tier_asked="standard",
        tier_served="standard", usage=Usage(12, 0, 4), cost=0.002, standard_cost=0.002,
        latency_ms=5.0, attempts=1, finish_reason="STOP",
    )
    return Exchange("gemini-2.5-flash", "standard", source, text,
                    {"system_instruction": "be brief"}, generation)


def test_the_observer_writes_in_the_background_and_drains_on_close(ws):
    ws.settings.logging.enabled = True
    observer = InteractionLog(ws)
    for n in range(120):
        observer.observe(exchange(f"question {n} from n{n}@example.com"))
    assert observer.flush(timeout=10)
    assert observer.written == 120
    for n in range(5):
        observer.observe(exchange(f"late {n}"))
    # Workspace.close() closes the connection holding the workspace's lock: the writer must
    # not need it to finish.
    started = time.monotonic()
    with ws._lock:
        observer.close()
    assert time.monotonic() - started < 5
    assert interaction_count(ws) == 125
    rows = recent_interactions(ws, limit=200)
    assert all("@example.com" not in r.contents_json for r in rows)
    assert rows[0].system_instruction == "be brief" and rows[0].response_text == "re: late 4"


def test_the_observer_never_fails_or_blocks_the_call(ws, monkeypatch, caplog):
    import console.services.interactions as interactions

    ws.settings.logging.enabled = True
    monkeypatch.setattr(interactions, "MAX_PENDING", 3)
    observer = InteractionLog(ws)
    gate = threading.Event()
    original = observer._write
    monkeypatch.setattr(observer, "_write", lambda batch: (gate.wait(10), original(batch)))
    for n in range(10):
        observer.observe(exchange(f"burst {n} to burst{n}@example.com"))  # never raises
    assert observer.dropped > 0
    assert "burst" not in caplog.text
    gate.set()
    observer.close()
    assert observer.written + observer.dropped == 10


# -- the store ---------------------------------------------------------------------------------


def test_pages_totals_choices_and_streaming(ws):
    ws.settings.logging.enabled = True
    for n in range(30):
        log(ws, f"n{n}", model="gemini-2.5-pro" if n % 3 == 0 else "gemini-2.5-flash",
            source="tiers" if n % 2 else "console", labels={"even": str(n % 2 == 0).lower()},
            at=FROZEN_NOW + n)
    with ws.session() as session:
        flt = InteractionFilter(labels=(("even", "true"),), models=("gemini-2.5-pro",))
        first = repo.page(session, flt, limit=2)
        assert [json.loads(r.contents_json)[0]["parts"][0]["text"] for r in first] == ["n24", "n18"]
        more = repo.page(session, flt, limit=10, before=(first[-1].at, first[-1].id))
        assert len(more) == 3  # n12, n6, n0
        totals = repo.totals(session, flt)
        assert (totals.count, totals.prompt_tokens, totals.output_tokens) == (5, 50, 25)
        assert repo.count(session, InteractionFilter(since=FROZEN_NOW + 10, until=FROZEN_NOW + 20)) == 10
        assert repo.distinct_values(session) == {
            "models": ["gemini-2.5-flash", "gemini-2.5-pro"],
            "sources": ["console", "tiers"],
        }
        assert repo.newest_id(session) == 30
        chunks = list(repo.stream(session, InteractionFilter(sources=("tiers",)), chunk=4))
        assert [len(c) for c in chunks] == [4, 4, 4, 3]
        assert [row[0] for chunk in chunks for row in chunk] == sorted(
            row[0] for chunk in chunks for row in chunk
        )
        with pytest.raises(ValueError):
            repo.insert_many(session, [{}], [])
