"""The google-genai suite runner's own logic: the reason table, classification, data files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from tests.sdk_suite import data
from tests.sdk_suite.runner import (
    NOT_RUN_KINDS,
    Outcome,
    Reason,
    SuiteResult,
    Table,
    auto_reason,
    classify,
    load_table,
)

SOURCE = "name='files/vjvu9fwk2qj8'\nmodel='gemini-2.5-flash'\n"


def _table(version: str = "3.6.1") -> Table:
    return Table(
        sdk_version=version,
        kinds={"google-fixture": "x", "real-host": "y"},
        reasons=[Reason("google-fixture", "a fixture", ["files/test_get.py::test_get[*"])],
        must_pass=["models/test_list.py::*"],
    )


def _result(*outcomes: Outcome, version: str = "3.6.1") -> SuiteResult:
    return SuiteResult(version, ["files", "models"], list(outcomes), 1.0, [], 1)


def test_the_reason_table_loads_and_every_kind_is_described() -> None:
    table = load_table()
    assert table.reasons and table.must_pass
    assert {r.kind for r in table.reasons} <= set(table.kinds)
    assert "unexpected" not in table.kinds
    real_host = {t for r in table.reasons if r.kind == "real-host" for t in r.tests}
    assert real_host and set(table.patterns_of(NOT_RUN_KINDS)) == real_host


def test_patterns_take_star_only_and_brackets_literally() -> None:
    reason = Reason("k", "w", ["files/test_get.py::test_get[*"])
    assert reason.matches("files/test_get.py::test_get[False-tests/files/get-None]")
    assert not reason.matches("files/test_get.py::test_getter[False]")
    assert not reason.matches("files/test_get.py::test_get")


def test_a_failure_outside_the_table_that_reached_the_emulator_is_unexpected() -> None:
    result = classify(
        _result(
            Outcome("files/test_get.py::test_get[False-x]", "failed", "403 PERMISSION_DENIED"),
            Outcome("models/test_list.py::test_pager[False-x]", "passed"),
            Outcome("models/test_new.py::test_x", "failed", "500 INTERNAL. boom"),
        ),
        _table(),
    )
    assert [r["test"] for r in result.unexpected] == ["models/test_new.py::test_x"]
    assert result.nonpass[0]["kind"] == "google-fixture"
    assert not result.ok


def test_a_must_pass_test_that_fails_is_reported_even_when_classified() -> None:
    result = classify(
        _result(
            Outcome(
                "models/test_list.py::test_pager[False-x]", "failed", "Name or service not known"
            )
        ),
        _table(),
    )
    assert not result.unexpected  # a DNS failure is never the emulator's …
    assert result.broken_must_pass == [
        "models/test_list.py::test_pager[False-x]"
    ]  # … but it must pass
    assert not result.ok


def test_a_vanished_must_pass_test_fails_only_with_the_tables_sdk_version() -> None:
    gone = _result(Outcome("files/test_list.py::test_x", "passed"))
    assert classify(gone, _table()).missing_must_pass == ["models/test_list.py::*"]
    newer = _result(Outcome("files/test_list.py::test_x", "passed"), version="9.0.0")
    assert classify(newer, _table()).ok


def test_a_listed_test_that_now_passes_is_reported_not_failed() -> None:
    result = classify(
        _result(
            Outcome("files/test_get.py::test_get[False-x]", "passed"),
            Outcome("models/test_list.py::test_pager", "passed"),
        ),
        _table(),
    )
    assert result.ok and result.now_passing[0]["kind"] == "google-fixture"


def test_auto_reasons_only_for_failures_that_never_concern_the_emulator() -> None:
    def kind(message: str) -> str | None:
        found = auto_reason("t", message, SOURCE)
        return found[0] if found else None

    assert kind("httpx.ConnectError: [Errno -2] Name or service not known") == "real-host"
    assert kind("ModuleNotFoundError: No module named 'mcp'") == "missing-module"
    assert (
        kind("FileNotFoundError: [Errno 2] No such file: '/x/tests/data/a.png'") == "missing-data"
    )
    assert (
        kind("ValueError: This method is only supported in Vertex AI mode, not in X")
        == "vertex-only"
    )
    fixture = "ClientError: 403 PERMISSION_DENIED. File vjvu9fwk2qj8 or it may not exist."
    assert kind(fixture) == "google-fixture"
    # A resource the test made itself, a model, the emulator refusing a connection: ours.
    assert kind("ClientError: 404 NOT_FOUND. File abcdef123456 not found") is None
    assert kind("ClientError: 404 NOT_FOUND. models/gemini-2.5-flash is not found") is None
    assert kind("httpx.ConnectError: [Errno 111] Connection refused") is None
    assert kind("AssertionError: 'Content-Encoding' in {}") is None


def test_synthesized_data_files_are_valid(tmp_path: Path) -> None:
    names = {"a.png", "b.jpg", "c.pdf", "d.mp4", "e.m4a", "f.wav", "g.txt", "h.xyz"}
    built = data.synthesize(names, tmp_path)
    assert set(built) == names - {"h.xyz"}
    folder = tmp_path / "tests" / "data"
    png = (folder / "a.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    length = struct.unpack(">I", png[8:12])[0]
    assert (
        zlib.crc32(png[12 : 16 + length]) == struct.unpack(">I", png[16 + length : 20 + length])[0]
    )
    jpg = (folder / "b.jpg").read_bytes()
    assert jpg.startswith(b"\xff\xd8\xff") and jpg.endswith(b"\xff\xd9")
    pdf = (folder / "c.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert (folder / "d.mp4").read_bytes()[4:8] == b"ftyp"
    assert (folder / "e.m4a").read_bytes()[8:12] == b"M4A "
    wav = (folder / "f.wav").read_bytes()
    assert wav[:4] == b"RIFF" and struct.unpack("<I", wav[4:8])[0] == len(wav) - 8


def test_data_names_are_read_from_the_test_modules(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text("open('tests/data/google.png')\nPath(\"tests/data/story.pdf\")\n")
    assert data.cwd_data_names([module]) == {"google.png", "story.pdf"}
