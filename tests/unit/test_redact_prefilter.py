"""The digit prefilter (Hyperscan, where installed) must never lose a candidate: the scan over
the two patterns finds exactly what one pattern of every branch finds, on every corpus and on
text built to sit at the edges of the shapes."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from console.services import redact
from console.services.redact import Redactor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CORPORA = ("pii", "pii_independent", "pii_holdout", "pii_field", "pii_phones")
# Every branch in one pattern, as the scan was before it was split: the reference.
ONE_PATTERN = re.compile(f"{redact._SCAN_DIGITS.pattern}|{redact._SCAN_OTHER.pattern}", re.ASCII)


def _reference(text: str) -> list[tuple[int, str | None]]:
    found, pos = [], 0
    while (m := ONE_PATTERN.search(text, pos)) is not None:
        found.append((m.start(), m.lastgroup))
        pos = m.start() + 1
    return found


def _split(text: str) -> list[tuple[int, str | None]]:
    search = redact._candidates(text)
    found, pos = [], 0
    while (m := search(pos)) is not None:
        found.append((m.start(), m.lastgroup))
        pos = m.start() + 1
    return found


def _texts() -> list[str]:
    texts = []
    for corpus in CORPORA:
        with (FIXTURES / corpus / "corpus.jsonl").open(encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh)
    return texts


def _edges(n: int) -> list[str]:
    """Digits, capitals, separators and non-ASCII characters in every order."""
    rng = random.Random(12)
    alphabet = "0123456789" * 4 + "ABXYZDEFU" + " .-/()+@$#_:=%,\n" + "é€〒£ßЖ"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(n)]


@pytest.fixture(params=["prefilter", "re"])
def prefilter(request, monkeypatch) -> str:
    if request.param == "re":
        monkeypatch.setattr(redact, "_digit_prefilter", lambda: None)
    elif redact._digit_prefilter() is None:
        pytest.skip("Hyperscan is not installed here")
    return request.param


def test_the_split_scan_finds_what_one_pattern_finds(prefilter) -> None:
    texts = _texts() + _edges(20_000)
    assert len(texts) > 25_000
    for text in texts:
        assert _split(text) == _reference(text), text
    # The corpora concatenated, as `gemops redact` reads them: in blocks, not records.
    whole = "\n".join(texts)
    assert _split(whole) == _reference(whole)


def test_redaction_is_the_same_with_and_without_the_prefilter(monkeypatch) -> None:
    if redact._digit_prefilter() is None:
        pytest.skip("Hyperscan is not installed here")
    text = "\n".join(_texts()[::7])
    with_prefilter = Redactor().redact(text)
    monkeypatch.setattr(redact, "_digit_prefilter", lambda: None)
    assert Redactor().redact(text) == with_prefilter
