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
