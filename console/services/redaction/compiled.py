"""Regular expressions compiled once per machine rather than once per process.

The redactor's patterns are long (cue-word alternations, Unicode letter classes) and `re`
compiles in Python: ~0.1 s of every `gemops redact` process went to compiling the same patterns
again, on the critical path before any text is read. `pattern(source, flags)` is `re.compile`,
but what the compiler produced — the flags, the code `_sre` runs and the group names — is kept in
the cache directory, and a later process hands it straight to `_sre.compile` (~0.1 ms a pattern).

The entries are keyed by the exact Python build (`sys.version`, the `_sre` magic number), so a
file from another interpreter is ignored, never used; `_sre` validates the code it is given; and
anything unexpected (CPython internals of another version, an unreadable or damaged file) means
plain `re.compile`. Entries are added as patterns are first compiled and written out when the
process exits (merged with what another process wrote meanwhile).
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # (what `re` itself compiles into)
import atexit
import contextlib
import marshal
import os
import re
import sys
from pathlib import Path
from typing import Any

from console import paths

_CACHE_NAME = "redact-patterns.marshal"
# (pattern, flags) -> (flags as compiled, code, groups, group index, group names)
_Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]

_entries: dict[tuple[str, int], _Entry] | None = None
_new: dict[tuple[str, int], _Entry] = {}
_path: Path | None = None  # the file read, and written at exit


def _build() -> str:
    return f"{sys.version}|{sys.hexversion}|{_sre.MAGIC}"


def _load() -> dict[tuple[str, int], _Entry]:
    global _entries, _path
    if _entries is None:
        _entries = {}
        _path = paths.cache_dir() / _CACHE_NAME
        with contextlib.suppress(Exception):  # missing, damaged, another build: compile
            build, entries = marshal.loads(_path.read_bytes())
            if build == _build() and isinstance(entries, dict):
                _entries = entries
        atexit.register(_save)
    return _entries


def _compiled_parts(source: str, flags: int) -> _Entry:
    """What `re._compiler.compile` hands `_sre.compile` (CPython 3.11 and later)."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(source, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]  # (opcodes are int subclasses)
    index: dict[str, int] = dict(parsed.state.groupdict)
    names: list[str | None] = [None] * parsed.state.groups
    for name, number in index.items():
        names[number] = name
    return (flags | parsed.state.flags, code, parsed.state.groups - 1, index, tuple(names))


def _from_parts(source: str, entry: _Entry) -> re.Pattern[str]:
    compiled: re.Pattern[str] = _sre.compile(source, *entry)
    return compiled


def pattern(source: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """`re.compile(source, flags)`, from the cache when an earlier process compiled it."""
    flags = int(flags)
    entries = _load()
    key = (source, flags)
    try:
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _new[key] = _compiled_parts(source, flags)
        return _from_parts(source, entry)
    except Exception:
        entries.pop(key, None)
        _new.pop(key, None)
        return re.compile(source, flags)


def _save() -> None:
    """Write the entries this process added, with the file's (another process may have written
    it meanwhile), atomically; a read-only cache directory only means compiling next time."""
    if not _new or _path is None:
        return
    path = _path
    entries: dict[Any, Any] = {}
    with contextlib.suppress(Exception):
        build, stored = marshal.loads(path.read_bytes())
        if build == _build() and isinstance(stored, dict):
            entries = stored
    entries.update(_new)
    write_cache_file(path, marshal.dumps((_build(), entries)))
    _new.clear()


def write_cache_file(path: Path, data: bytes) -> None:
    """Put `data` at `path` in the cache directory whole (written aside, then renamed, so a
    reader never sees half of it); a read-only cache directory only means rebuilding later."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)
