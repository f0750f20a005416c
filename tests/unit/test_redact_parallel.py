"""`gemops redact` scans blocks in forked workers: the output must be the one process's, byte
for byte, in every mode, across block boundaries."""

from __future__ import annotations

import io
import os

import pytest

from console.services import forked, redact
from console.services.redact import redact_stream

KEY = ("-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEowIBAAKCAQEAx7v0Q2s9dXx1c2VyLWtleS1ib2R5LWxpbmUtb25l\n" * 30
       + "-----END RSA PRIVATE KEY-----\n")


def _input() -> str:
    lines = []
    for i in range(400):
        lines.append(f"ticket {i}: Dear Maria Silva, call +44 20 7946 0{i % 1000:03d} or write to "
                     f"maria.silva{i % 7}@example.com; card 4111 1111 1111 1111.\n")
        if i == 200:
            lines.append(KEY)  # long enough to straddle a block boundary
        lines.append("Summarize the JSON on Monday for build 2.5.1.\n")
    return "".join(lines)


def _run(text: str, jobs: int, **options) -> tuple[str, int]:
    out = io.StringIO()
    count = redact_stream(io.StringIO(text), out, jobs=jobs, **options)
    return out.getvalue(), count


@pytest.mark.parametrize("options", [
    {"as_json": False}, {"as_json": False, "mode": "pseudonym"},
    {"as_json": True}, {"as_json": True, "mode": "pseudonym"},
])
def test_workers_write_what_one_process_writes(monkeypatch, options) -> None:
    monkeypatch.setattr(redact, "BLOCK_CHARS", 2048)  # dozens of blocks from a small input
    text = _input()
    alone, found_alone = _run(text, 1, **options)
    shared, found_shared = _run(text, 2, **options)
    assert shared == alone
    assert found_shared == found_alone > 1_000
    assert "maria.silva" not in shared and "MIIEowIBAAKCAQEA" not in shared
    if options.get("mode") == "pseudonym":
        # Numbered in input order across blocks: seven addresses, seven pseudonyms.
        assert "[EMAIL_7]" in shared and "[EMAIL_8]" not in shared


@pytest.mark.skipif(not forked.can_fork(), reason="workers are forked only on Linux")
def test_the_work_runs_in_other_processes_in_order() -> None:
    results = list(forked.ordered_map(lambda i: (i, os.getpid()), range(40), workers=2))
    assert [i for i, _ in results] == list(range(40))
    assert os.getpid() not in {pid for _, pid in results}


def test_one_item_never_starts_a_pool() -> None:
    assert list(forked.ordered_map(lambda i: os.getpid(), [1], workers=4)) == [os.getpid()]


def _run_bytes(data: bytes, jobs: int, encoding: str = "utf-8") -> bytes:
    """`redact_stream` between text streams over bytes, as `gemops redact` reads stdin."""
    sink = io.BytesIO()
    out = io.TextIOWrapper(sink, encoding=encoding, write_through=True)
    redact_stream(io.TextIOWrapper(io.BytesIO(data), encoding=encoding), out, as_json=False,
                  jobs=jobs)
    out.flush()
    return sink.getvalue()


@pytest.mark.parametrize("jobs", [1, 2])
def test_utf8_streams_are_redacted_as_bytes_with_their_line_endings(monkeypatch, jobs) -> None:
    monkeypatch.setattr(redact, "BLOCK_CHARS", 2048)
    text = _input().replace("Dear Maria", "Dear Zoë Müller and Maria").replace("\n", "\r\n")
    data = _run_bytes(text.encode(), jobs)
    # Line endings are the input's; accents and the key across blocks come through as text does.
    assert data.count(b"\r\n") > 800 and b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode() == _run(text, 1, as_json=False)[0]
    assert "Zoë".encode() not in data and b"MIIEowIBAAKCAQEA" not in data


def test_other_encodings_go_through_text() -> None:
    text = "Dear Zoë Müller, call +44 20 7946 0958.\n" * 3
    data = _run_bytes(text.encode("latin-1"), 2, encoding="latin-1")
    assert data.decode("latin-1") == _run(text, 1, as_json=False)[0]


@pytest.mark.parametrize("options", [[], ["-j", "1"], ["--pseudonyms"], ["--json"]])
def test_gemops_redact_passes_bytes_that_are_not_utf8(options) -> None:
    """A stray Latin-1 byte in a UTF-8 log: the text around it is redacted and the byte comes
    out as it went in (in JSON, which must be UTF-8, as U+FFFD); under any UTF-8 locale."""
    import json
    import subprocess
    import sys

    data = b"caf\xe9 ok \xff maria@example.com, Dear Maria Silva\r\nZo\xc3\xab\n"
    for lang in ("C.UTF-8", "en_US.UTF-8"):
        out = subprocess.run(
            [sys.executable, "-c", "from console.cli import run; run()", "redact", *options],
            input=data, capture_output=True, timeout=60,
            env=dict(os.environ, LANG=lang, LC_ALL=lang, PYTHONIOENCODING=""),
        )
        assert out.returncode == 0, out.stderr
        if options == ["--json"]:
            first = json.loads(out.stdout.decode().splitlines()[0])
            assert first["text"].startswith("caf\ufffd ok \ufffd [EMAIL_REDACTED]")
        else:
            assert out.stdout.startswith(b"caf\xe9 ok \xff [EMAIL")
            assert b"maria" not in out.stdout and b"Silva" not in out.stdout
            assert out.stdout.endswith(b"]\r\nZo\xc3\xab\n")
