"""Batch JSONL: streaming validation that names file, line and field; the normal form."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from console.services import jsonl

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drop"


def write(tmp_path: Path, *lines: str, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def rest(key: str, text: str = "hi", **extra) -> str:
    request = {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}
    return orjson.dumps({"key": key, "request": request}).decode()


def test_a_rest_file_is_valid_and_uploaded_as_it_is(tmp_path):
    path = write(tmp_path, rest("a"), rest("b", generationConfig={"temperature": 0.5}))
    report = jsonl.validate(path)
    assert report.ok and report.requests == 2 and report.error_count == 0
    assert not report.needs_rewrite
    assert [r.key for r in jsonl.requests(path)] == ["a", "b"]


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('{"key": "a", "request": {"contents": [', "json", "not valid JSON"),
        ('["a"]', "json", "expected a JSON object"),
        ('{"key": "a"}', "request", "is missing"),
        ('{"key": "a", "prompt": "x", "colour": 1}', "colour", "unknown field"),
        ('{"key": 7.5, "prompt": "x"}', "key", "non-empty string"),
        ('{"key": "", "prompt": "x"}', "key", "empty string"),
        ('{"prompt": ""}', "prompt", "non-empty string"),
        ('{"prompt": "x", "config": {"temperature": 3}}', "config.temperature", "between 0 and 2"),
        ('{"prompt": "x", "config": {"topk": 3}}', "config.topk", "unknown field"),
        ('{"prompt": "x", "model": 3}', "model", "non-empty string"),
        ('{"key": "a", "request": {"contents": []}}', "request.contents", "must not be empty"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"txt": "x"}]}]}}',
         "request.contents[0].parts[0]", "unknown field 'txt'"),
        ('{"key": "a", "request": {"contents": [{"role": "bot", "parts": [{"text": "x"}]}]}}',
         "request.contents[0].role", "must be one of"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"text": 5}]}]}}',
         "request.contents[0].parts[0].text", "must be a string"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"inlineData": {"data": "x"}}]}]}}',
         "request.contents[0].parts[0].inlineData.mimeType", "is required"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"text": "x"}]}], '
         '"generationConfig": {"maxOutputTokens": 0}}}',
         "request.generationConfig.maxOutputTokens", "at least 1"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"text": "x"}]}], "foo": 1}}',
         "request.foo", "unknown field"),
        ('{"key": "a", "request": {"contents": [{"parts": [{"text": "x"}]}]}, "prompt": "y"}',
         "prompt", "not both"),
    ],
)
def test_every_error_names_file_line_and_field(tmp_path, line, field, words):
    path = write(tmp_path, rest("ok"), line, name="tickets.jsonl")
    report = jsonl.validate(path)
    assert not report.ok
    error = next(e for e in report.errors if e.field == field)
    assert (error.file, error.line) == ("tickets.jsonl", 2)
    assert words in error.message
    assert str(error).startswith(f"tickets.jsonl:2: {field}: ")


def test_every_bad_line_is_reported_not_just_the_first(tmp_path):
    report = jsonl.validate(FIXTURES / "malformed.jsonl")
    lines = sorted({e.line for e in report.errors})
    assert lines == [2, 3, 4, 5, 6, 7, 8]
    assert report.bad_lines == 7 and report.requests == 2  # ok-1 and its repeat parse
    repeat = next(e for e in report.errors if e.line == 5)
    assert repeat.field == "key" and "already used on line 1" in repeat.message


def test_a_cut_short_last_line_says_it_may_still_be_written(tmp_path):
    path = tmp_path / "half.jsonl"
    path.write_bytes((rest("a") + "\n" + rest("b"))[:-9].encode())
    [error] = jsonl.validate(path).errors
    assert error.line == 2 and "still being written" in error.message


def test_generated_keys_come_from_line_numbers_and_must_not_collide(tmp_path):
    path = write(tmp_path, '{"prompt": "a"}', "", '{"prompt": "b"}', '{"key": "line-1", "prompt": "c"}')
    report = jsonl.validate(path)
    [error] = report.errors
    assert (error.line, error.field) == (4, "key")
    assert "'line-1' (given) is already used on line 1" in error.message
    assert [r.key for r in jsonl.requests(path)][:2] == ["line-1", "line-3"]


def test_defaults_header_and_shorthand_merge_into_rest_requests():
    path = FIXTURES / "defaults.jsonl"
    report = jsonl.validate(path)
    assert report.ok and report.requests == 4 and report.needs_rewrite
    assert report.model_for("fallback-model") == "gemini-2.5-flash"
    first, _, third, fourth = list(jsonl.requests(path))
    assert first.request == {
        "systemInstruction": {"parts": [{"text": "You are a Northwind Outfitters support agent. "
                                                  "Answer in two sentences."}]},
        "generationConfig": {"temperature": 0.3, "maxOutputTokens": 256},
        "contents": [{"role": "user", "parts": [{"text": "My order arrived damaged. What now?"}]}],
    }
    # The line's own settings win, key by key.
    assert third.request["generationConfig"] == {"temperature": 0.0, "maxOutputTokens": 256}
    assert fourth.request["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 64}
    assert first.model == "gemini-2.5-flash"


def test_a_defaults_header_must_come_first(tmp_path):
    path = write(tmp_path, '{"prompt": "a"}', '{"defaults": {"model": "m"}}')
    [error] = jsonl.validate(path).errors
    assert (error.line, error.field) == (2, "defaults") and "first line" in error.message


def test_shorthand_config_splits_into_request_and_generation_fields():
    requests = list(jsonl.requests(FIXTURES / "shorthand.jsonl"))
    assert [r.key for r in requests] == ["line-1", "line-2", "with-system"]
    assert requests[1].request["generationConfig"] == {"maxOutputTokens": 100}
    assert requests[2].request["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert requests[2].request["generationConfig"] == {"temperature": 0.5}


def test_the_normal_form_is_deterministic_and_can_leave_keys_out(tmp_path):
    source = FIXTURES / "defaults.jsonl"
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert jsonl.write_normal_form(source, first)[0] == 4
    jsonl.write_normal_form(source, second)
    assert first.read_bytes() == second.read_bytes()
    normal = jsonl.validate(first)
    assert normal.ok and not normal.needs_rewrite
    count, _ = jsonl.write_normal_form(source, second, skip_keys=frozenset({"t-1002"}))
    assert count == 3 and "t-1002" not in second.read_text()
    assert '"model"' not in first.read_text()  # a batch runs one model, named in its URL


def test_the_sink_sees_every_error_beyond_what_the_report_keeps(tmp_path):
    bad = jsonl.KEPT_ERRORS + 50
    path = write(tmp_path, *(["nope"] * bad))
    seen: list[jsonl.LineError] = []
    report = jsonl.validate(path, sink=seen.append)
    assert report.error_count == bad == len(seen) and len(report.errors) == jsonl.KEPT_ERRORS
    assert [e.line for e in seen] == list(range(1, bad + 1))


def test_blank_lines_and_a_bom_are_tolerated_but_rewritten(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + rest("a").encode() + b"\n\n" + rest("b").encode() + b"\n")
    report = jsonl.validate(path)
    assert report.ok and report.requests == 2 and report.needs_rewrite


def test_an_empty_file_has_no_requests(tmp_path):
    path = write(tmp_path, "", "   ")
    [error] = jsonl.validate(path).errors
    assert error.field == "file" and "no requests" in error.message


def test_sdk_call_turns_a_rest_request_into_contents_and_config():
    contents, config = jsonl.sdk_call({
        "contents": [{"parts": [{"text": "x"}]}],
        "systemInstruction": {"parts": [{"text": "sys"}]},
        "generationConfig": {"temperature": 0.1, "maxOutputTokens": 5},
        "cached_content": "cachedContents/abc",
        "model": "models/gemini-2.5-flash",
    })
    assert contents == [{"parts": [{"text": "x"}]}]
    assert config == {"system_instruction": {"parts": [{"text": "sys"}]}, "temperature": 0.1,
                      "maxOutputTokens": 5, "cached_content": "cachedContents/abc"}


def test_the_fixture_files_are_what_their_names_say():
    for name in ("valid", "defaults", "shorthand", "images"):
        assert jsonl.validate(FIXTURES / f"{name}.jsonl").ok, name
    assert not jsonl.validate(FIXTURES / "malformed.jsonl").ok
    assert jsonl.validate(FIXTURES / "images.jsonl").models == {"gemini-2.5-flash-image": 2}


def test_key_and_request_lines_under_a_defaults_header_are_checked_and_merged(tmp_path):
    # The {key, request} form takes validate's fast path: the same checks and messages apply.
    path = write(
        tmp_path,
        '{"defaults": {"generationConfig": {"temperature": 0.5}}}',
        rest("a", model=""),
        rest("b", generationConfig={"topK": 2}),
        rest("c", systemInstruction={"parts": []}),
        rest("d", generationConfig={"topK": 1.5, "temperature": 3}),
    )
    report = jsonl.validate(path)
    assert [str(e) for e in report.errors] == [
        "in.jsonl:2: request.model: must be a non-empty string, got a string",
        "in.jsonl:2: model: must be a non-empty string, got a string",
        "in.jsonl:4: request.systemInstruction.parts: must not be empty",
        "in.jsonl:5: request.generationConfig.topK: must be an integer, got a number",
        "in.jsonl:5: request.generationConfig.temperature: must be between 0 and 2, got 3",
    ]
    [b] = jsonl.requests(path)
    assert b.key == "b" and not b.verbatim
    assert b.request["generationConfig"] == {"temperature": 0.5, "topK": 2}
