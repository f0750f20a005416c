"""Explicit caches through the services and `gemops caches`, against the emulator: the size
check before anything is sent, uploads, extend, delete, per-cache use and savings, implicit
and explicit hit rates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from console.bootstrap import make_workspace
from console.cli import main
from console.commands.caches import close
from console.services import caches as service
from console.services.caches import CacheDraft, CacheGone, CacheInputError, CacheTooSmall
from console.services.gateway import GatewayError
from store.repos import caches as cache_rows
from store.repos import files as file_rows
from tests.e2e.conftest import long_text

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
HANDBOOK = DOCS / "operator-handbook.md"  # 2,153 tokens at 4 characters a token
NOTE = DOCS / "release-note.md"  # 123 tokens
PDF = DOCS / "price-sheet.pdf"  # one page: 258 tokens
PNG = DOCS / "logo.png"  # 258 tokens
FLASH_SAVING_PER_TOKEN = (0.30 - 0.03) / 1e6  # 2.5 Flash input vs its cache-read rate


async def _no_wait(_seconds: float) -> None:
    """Retry waits cost no time."""


@pytest.fixture
def ws(settings, emulator):
    settings.gemini.base_url = emulator.base_url
    workspace = make_workspace(settings, clock=emulator.clock.now, sleep=_no_wait)
    yield workspace
    close(workspace)


def operations(emulator) -> list[str]:
    rows = httpx.get(f"{emulator.base_url}/_emulator/requests").json()["requests"]
    return [r["operation"] for r in sorted(rows, key=lambda r: r["id"])]


def draft(*paths: Path, model: str = "gemini-2.5-flash", **extra) -> CacheDraft:
    return CacheDraft(model=model, ttl_s=extra.pop("ttl_s", 3600), files=paths, **extra)


def test_create_counts_uploads_and_records_the_cache(ws, emulator):
    steps = []
    cache = service.create(
        ws,
        draft(HANDBOOK, PDF, PNG, system_instruction="You are the Northwind assistant.",
              display_name="northwind"),
        lambda text, done, total: steps.append((text, done, total)),
    )
    # 2,153 + 258 + 258, and 8 for the instruction: the same figure countTokens gave.
    assert cache.total_tokens == 2153 + 258 + 258 + 8
    assert [s[0].split(" ")[0] for s in steps] == [
        "counting", "uploading", "uploading", "uploading", "creating", "created"]
    assert steps[1][0] == "uploading operator-handbook.md (1/3, 8.4 KB)"
    ops = [op for op in operations(emulator) if op != "files.upload_chunk"]
    assert ops == ["countTokens", *["files.upload"] * 3, "cachedContents.create"]
    with ws.session() as session:
        assert cache_rows.get(session, cache.name).display_name == "northwind"
        assert {f.mime_type for f in file_rows.active(session)} == {
            "text/markdown", "application/pdf", "image/png"}
    remote = emulator.state.caches.get(cache.name)
    assert remote["_content"]["systemInstruction"]["parts"][0]["text"].startswith("You are")


def test_a_cache_below_the_minimum_is_refused_before_anything_is_stored(ws, emulator):
    with pytest.raises(CacheTooSmall) as refused:
        service.create(ws, draft(NOTE))
    assert (refused.value.check.tokens, refused.value.check.minimum) == (123, 1024)
    assert str(refused.value) == (
        "too small to cache: 123 tokens, but gemini-2.5-flash needs at least 1,024 — "
        "nothing was uploaded or created"
    )
    # Pro's minimum is 4,096: the handbook that suits Flash is refused there.
    with pytest.raises(CacheTooSmall, match=r"2,153 tokens, but gemini-2\.5-pro needs at least 4,096"):
        service.create(ws, draft(HANDBOOK, model="gemini-2.5-pro"))
    assert operations(emulator) == ["countTokens", "countTokens"]
    assert emulator.state.files.files == {} and emulator.state.caches.caches == {}


def test_bad_input_is_refused_without_any_call(ws, emulator, tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CacheInputError) as bad:
        service.create(ws, draft(tmp_path / "missing.md", binary, empty))
    message = str(bad.value)
    assert "missing.md: no such file" in message
    assert "blob.bin: not text, PDF or an image" in message
    assert "empty.txt: the file is empty" in message
    with pytest.raises(CacheInputError, match="nothing to cache"):
        service.create(ws, draft())
    with pytest.raises(CacheInputError, match="no price for model"):
        service.create(ws, draft(HANDBOOK, model="gemini-9-ultra"))
    assert operations(emulator) == []


@pytest.mark.parametrize("text,seconds", [
    ("90m", 5400), ("1h30m", 5400), ("2d", 172_800), ("3600s", 3600), ("45", 45), ("1.5h", 5400),
])
def test_ttl_parsing(text, seconds):
    assert service.parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1h fish", "0s", "-5m"])
def test_bad_ttls(text):
    with pytest.raises(CacheInputError):
        service.parse_ttl(text)


def test_a_failed_create_deletes_its_uploads(ws, emulator):
    faults = {"error_rates": {"429": 1.0}, "operations": ["cachedContents.create"]}
    httpx.put(f"{emulator.base_url}/_emulator/faults", json=faults).raise_for_status()
    with pytest.raises(GatewayError) as failed:
        service.create(ws, draft(HANDBOOK))
    assert failed.value.status == 429
    assert service.describe_error(failed.value).startswith("create cache: rate limited (429)")
    assert "files.delete" in operations(emulator)
    assert emulator.state.files.files == {}
    with ws.session() as session:
        assert file_rows.active(session) == []


def test_extend_by_and_to_a_ttl(ws, emulator):
    cache = service.create(ws, draft(HANDBOOK, ttl_s=600))
    longer = service.extend(ws, cache.name, by_s=3600)
    assert longer.expires_at == pytest.approx(cache.expires_at + 3600, abs=0.01)
    reset = service.extend(ws, cache.name, ttl_s=120)
    assert reset.expires_at == pytest.approx(emulator.clock.now() + 120, abs=2)
    with pytest.raises(CacheInputError):
        service.extend(ws, cache.name, by_s=0)


def test_a_vanished_cache_is_marked_gone(ws, emulator):
    cache = service.create(ws, draft(HANDBOOK))
    emulator.state.caches.delete(cache.name)
    with pytest.raises(CacheGone):
        service.extend(ws, cache.name, by_s=60)
    with ws.session() as session:
        assert cache_rows.get(session, cache.name).gone_at is not None
    with pytest.raises(CacheGone, match="no longer exists"):
        service.delete(ws, cache.name)


def test_use_and_savings_per_cache_and_hit_rates(ws, emulator):
    cache = service.create(ws, draft(HANDBOOK, display_name="handbook"))
    gateway = ws.gateway
    for i in range(3):
        gateway.run(gateway.generate(
            "gemini-2.5-flash", f"question {i}", {"cached_content": cache.name}))
    # Implicit caching: the same long instruction first, a different question last.
    policy = long_text(1500, "policy")
    for i in range(4):
        gateway.run(gateway.generate("gemini-2.5-flash", [policy, f"ask {i}"]))
    gateway.flush_ledger()

    (view,) = service.cache_views(ws)
    assert (view.calls, view.usage.cached_tokens) == (3, 3 * 2153)
    assert view.saved == pytest.approx(3 * 2153 * FLASH_SAVING_PER_TOKEN)
    assert view.per_hour == pytest.approx(2153 / 1e6)

    by_model = {(r.group, r.kind): r for r in service.hit_rates(ws, by="model")}
    explicit = by_model[("gemini-2.5-flash", "explicit")]
    implicit = by_model[("gemini-2.5-flash", "implicit")]
    assert explicit.calls == 3 and explicit.cached_tokens == 3 * 2153
    assert implicit.calls == 4 and 0 < implicit.rate < explicit.rate
    assert implicit.saved == pytest.approx(implicit.cached_tokens * FLASH_SAVING_PER_TOKEN)
    by_prefix = service.hit_rates(ws, by="prefix")
    implicit_groups = [r for r in by_prefix if r.kind == "implicit"]
    assert len(implicit_groups) == 1 and implicit_groups[0].calls == 4


# -- gemops caches ----------------------------------------------------------------------


@pytest.fixture
def cli(settings, emulator_url, monkeypatch):
    monkeypatch.setenv("GEMOPS_GEMINI__BASE_URL", emulator_url)
    monkeypatch.setenv("GEMOPS_STORE__PATH", str(settings.db_path))
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(main, ["caches", *args])
        assert result.exit_code == code, result.output
        return result

    return run


def test_gemops_caches_headless(cli, emulator):
    made = json.loads(cli("create", "-f", str(HANDBOOK), "--name", "handbook", "--ttl", "30m",
                          "--json").stdout)
    assert made["total_tokens"] == 2153 and made["display_name"] == "handbook"

    (listed,) = json.loads(cli("list", "--json").stdout)
    assert listed["name"] == made["name"] and listed["calls"] == 0
    assert 1700 < listed["expires_in_s"] <= 1800
    table = cli("list").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "DISPLAY", "NAME"] and "2,153" in table[1]

    extended = json.loads(cli("extend", "handbook", "--by", "1h", "--json").stdout)
    assert extended["expires_at"] > made["expires_at"]

    deleted = json.loads(cli("delete", made["name"].removeprefix("cachedContents/"), "--yes",
                             "--json").stdout)
    assert deleted == [{"name": made["name"], "deleted": True}]
    assert json.loads(cli("list", "--json").stdout) == []
    assert json.loads(cli("hits", "--json").stdout) == []


def test_gemops_caches_refusals(cli, emulator):
    small = cli("create", "-f", str(NOTE), code=1)
    assert "123 tokens, but gemini-2.5-flash needs at least 1,024" in small.output
    assert "[0/3] counting tokens" in small.stderr
    assert operations(emulator) == ["countTokens"]
    assert "is not a duration" in cli("create", "-f", str(HANDBOOK), "--ttl", "soon",
                                      code=2).output
    assert "no cache called 'nope'" in cli("extend", "nope", "--by", "1h", code=1).output
    assert "exactly one of --by" in cli("extend", "x", code=2).output
    cli("create", "-f", str(HANDBOOK), "--name", "keep me")
    assert "refusing to delete without --yes" in cli("delete", "keep me", code=1).output
    assert len(emulator.state.caches.caches) == 1
