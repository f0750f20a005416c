"""The prefilter (Hyperscan, where installed) must never lose a candidate: the scan through it
finds exactly what `re` alone finds, on every corpus and on text built to sit at the edges of
the shapes."""

from __future__ import annotations

import json
import platform
import random
import sys
from pathlib import Path

import pytest

from console.services import redact
from console.services.redact import Redactor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CORPORA = ("pii", "pii_independent", "pii_holdout", "pii_field", "pii_phones")


def _reference(text: str) -> list[tuple[int, str | None]]:
    found, pos = [], 0
    while (m := redact._SCAN.search(text, pos)) is not None:
        found.append((m.start(), m.lastgroup))
        pos = m.start() + 1
    return found


def _prefiltered(text: str) -> list[tuple[int, str | None]]:
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
    """Digits, capitals, separators, key prefixes and non-ASCII characters in every order."""
    rng = random.Random(12)
    pieces = [*"0123456789" * 4, *"ABXYZDEFUabcfst", *" .-/()+@$#_:=%,\"'\t\n", *"é€〒£ßЖ",
              "%40", "::", "://", "eyJ", "AKIA", "AIza", "ghp_", "sk_live_", "xoxb-", "sk-",
              "-----BEGIN ", " Bearer ", "pass", "secret", "token"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(n)]


# Where pyproject installs Hyperscan it must be there (a missing one is a broken install, not a
# reason to skip); elsewhere the tests of the prefilter itself do not apply.
WITH_HYPERSCAN = sys.platform == "linux" and platform.machine() == "x86_64"


def _hyperscan() -> None:
    if not WITH_HYPERSCAN:
        pytest.importorskip("hyperscan")
    assert redact._prefilter() is not None, "Hyperscan is a dependency here, and missing"


@pytest.fixture(params=["prefilter", "re"])
def prefilter(request, monkeypatch) -> str:
    if request.param == "re":
        monkeypatch.setattr(redact, "_prefilter", lambda: None)
    else:
        _hyperscan()
    return request.param


def test_the_prefiltered_scan_finds_what_re_alone_finds(prefilter) -> None:
    texts = _texts() + _edges(20_000)
    assert len(texts) > 25_000
    for text in texts:
        assert _prefiltered(text) == _reference(text), text
    # The corpora concatenated, as `gemops redact` reads them: in blocks, not records.
    whole = "\n".join(texts)
    assert _prefiltered(whole) == _reference(whole)


def test_redaction_is_the_same_with_and_without_the_prefilter(monkeypatch) -> None:
    _hyperscan()
    text = "\n".join(_texts()[::7])
    with_prefilter = Redactor().redact(text)
    monkeypatch.setattr(redact, "_prefilter", lambda: None)
    assert Redactor().redact(text) == with_prefilter


@pytest.mark.parametrize(("text", "secret"), [
    # A 'J' inside a dotted name is no token (it used to be masked from two characters before it).
    ("class org.JUnitRunner.testCase.runAll()", None),
    ("see fooJbarbaz.quxquux.corgecorge here", None),
    # An encrypted token (JWE) has five parts, all masked.
    ("jwe eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2ojaHV7LFp.48V1_ALb6US04U3b.5eym8TW_c8SuK0l"
     ".XFBoMYUZodetZdvTiFvSkQ end",
     "eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2ojaHV7LFp.48V1_ALb6US04U3b.5eym8TW_c8SuK0l"
     ".XFBoMYUZodetZdvTiFvSkQ"),
])
def test_tokens_by_their_eyj_only(text: str, secret: str | None) -> None:
    found = [text[f.start:f.end] for f in Redactor().find(text) if f.type.value == "secret"]
    assert found == ([secret] if secret else [])


def test_the_compiled_prefilter_is_kept_in_the_cache_directory(tmp_path) -> None:
    """Compiled once, then loaded; a damaged file is compiled over, and an unwritable cache
    directory only means compiling every time."""
    _hyperscan()
    import hyperscan
    text = "call +44 20 7946 0958, key AKIAIOSFODNN7EXAMPLE, id eyJhbGciOiJIUzI1NiJ9.e30.sig0"
    cache = tmp_path / "xdg-cache" / "gemops"  # XDG_CACHE_HOME is the test's (conftest)

    def leads() -> list[int]:
        found: list[int] = []
        database = redact._prefilter_database()
        database.scan(text.encode(), match_event_handler=lambda *hit: found.append(hit[2]),
                      scratch=hyperscan.Scratch(database))
        return found

    compiled = leads()
    [stored] = cache.glob("redact-prefilter-*.hsdb")
    assert leads() == compiled and list(cache.glob("*.part")) == []
    stored.write_bytes(b"not a database")
    assert leads() == compiled
    assert stored.read_bytes() != b"not a database"  # compiled and stored again
    stored.unlink()
    for entry in cache.iterdir():
        entry.unlink()
    cache.rmdir()
    cache.write_text("a file where the directory would be")  # (root ignores modes)
    assert leads() == compiled
    assert cache.read_text() == "a file where the directory would be"


def test_threads_redact_at_the_same_time() -> None:
    """Interactions are logged from several threads: each scans with scratch space of its own."""
    from concurrent.futures import ThreadPoolExecutor

    text = "\n".join(_texts()[:400])
    expected = Redactor().redact(text).text
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: Redactor().redact(text).text, range(16)))
    assert results == [expected] * 16
