"""Patterns compiled once per machine: what comes from the cache is the pattern `re.compile`
makes (the same code), and a cache that is missing, damaged, of another build or unwritable
only means compiling."""

from __future__ import annotations

import marshal
import re

import pytest

from console.services import redact
from console.services.redaction import compiled, people

SOURCES = [
    (redact._SCAN.pattern, re.ASCII),
    (people._RUN.pattern, 0),
    (r"(?P<user>[\w.]+)@(?P<host>[\w.]+)", re.IGNORECASE),
    (r"[0-9]{3}([ .\-])[0-9]{2}\1[0-9]{4}", re.ASCII),
]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """The module as in a new process, its cache file under this test's directory."""
    monkeypatch.setattr(compiled, "_entries", None)
    monkeypatch.setattr(compiled, "_new", {})
    monkeypatch.setattr(compiled, "_path", None)
    monkeypatch.setattr(compiled.atexit, "register", lambda fn: None)
    return tmp_path / "xdg-cache" / "gemops" / compiled._CACHE_NAME


def _new_process(monkeypatch) -> None:
    monkeypatch.setattr(compiled, "_entries", None)
    monkeypatch.setattr(compiled, "_new", {})


def test_a_cached_pattern_is_the_one_re_compiles(fresh, monkeypatch) -> None:
    first = [compiled.pattern(source, flags) for source, flags in SOURCES]
    compiled._save()
    assert fresh.exists()
    _new_process(monkeypatch)
    calls = []
    monkeypatch.setattr(compiled, "_compiled_parts", lambda *a: calls.append(a))
    again = [compiled.pattern(source, flags) for source, flags in SOURCES]
    assert calls == []  # every one came from the file
    for (source, flags), one, other in zip(SOURCES, first, again, strict=True):
        # Pattern equality compares the flags and the compiled code, not only the source.
        assert one == other == re.compile(source, flags)
        assert other.groupindex == re.compile(source, flags).groupindex
    assert again[2].match("Ana.Lima@Example.org").group("host") == "Example.org"


def test_another_build_or_a_damaged_file_means_compiling(fresh, monkeypatch) -> None:
    fresh.parent.mkdir(parents=True)
    for content in (b"\x00 not marshal", marshal.dumps(("Python 2.7|0|0", {})),
                    marshal.dumps(("x", "not a dict"))):
        fresh.write_bytes(content)
        _new_process(monkeypatch)
        assert compiled.pattern(*SOURCES[3]) == re.compile(*SOURCES[3])
    compiled._save()  # the damaged file is replaced by this build's
    build, entries = marshal.loads(fresh.read_bytes())
    assert build == compiled._build() and (SOURCES[3][0], int(SOURCES[3][1])) in entries


def test_internals_that_differ_fall_back_to_re(fresh, monkeypatch) -> None:
    monkeypatch.setattr(compiled, "_from_parts", lambda *a: (_ for _ in ()).throw(TypeError()))
    assert compiled.pattern(*SOURCES[3]) == re.compile(*SOURCES[3])
    assert compiled._new == {}  # nothing of it is written


def test_an_unwritable_cache_directory_only_means_compiling_next_time(fresh) -> None:
    fresh.parent.parent.mkdir(parents=True)
    fresh.parent.write_text("a file where the directory would be")  # (root ignores modes)
    assert compiled.pattern(*SOURCES[2]) == re.compile(*SOURCES[2])
    compiled._save()
    assert fresh.parent.read_text() == "a file where the directory would be"
