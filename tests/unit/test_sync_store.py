"""The store side of caches: what the ledger says per cache and per hit-rate group, finding a
cache by name, id or display name, and the index that keeps per-cache reads cheap."""

from __future__ import annotations

import pytest

from console.bootstrap import make_workspace
from console.services.caches import cache_saving, cache_views, hit_rates, resolve
from console.services.pricing import PriceTable
from store.repos import caches, ledger

NOW = 1_790_000_000.0
CALL = {"operation": "generate", "tier_asked": "standard", "tier_served": "standard",
        "candidate_tokens": 10, "thought_tokens": 0, "total_tokens": 0, "latency_ms": 1.0,
        "status": 200, "error": None, "attempt": 1, "cost": 0.0, "standard_cost": 0.0,
        "prompt_tokens": 0, "cached_tokens": 0,
        "batch": False, "source": "console", "request_key": None, "prefix_hash": "p1",
        "cached_content": None}


@pytest.fixture
def ws(settings):
    workspace = make_workspace(settings, clock=lambda: NOW)
    yield workspace
    workspace.close()


def cache(name: str, display: str = "", model: str = "gemini-2.5-flash", **extra) -> dict:
    return {"name": name, "display_name": display, "model": model, "total_tokens": 10_000,
            "created_at": NOW - 7200, "updated_at": NOW - 7200, "expires_at": NOW + 3600} | extra


def calls(**values) -> list[dict]:
    n = values.pop("n", 1)
    return [CALL | {"at": NOW - 60, "model": "gemini-2.5-flash"} | values for _ in range(n)]


def test_per_cache_use_counts_both_spellings_and_only_successes(ws):
    with ws.session() as session:
        caches.mirror_remote(session, [
            cache("cachedContents/a"), cache("cachedContents/b", model="gemini-2.5-pro"),
        ], now=NOW)
        ledger.insert_many(session, [
            *calls(n=2, cached_content="cachedContents/a", prompt_tokens=12_000,
                   cached_tokens=10_000),
            *calls(cached_content="a", prompt_tokens=12_000, cached_tokens=10_000),
            *calls(cached_content="a", status=403, error="gone"),
            # Over the long-context threshold: priced at the long rate.
            *calls(cached_content="cachedContents/b", model="gemini-2.5-pro",
                   prompt_tokens=250_000, cached_tokens=200_000),
        ])
    views = {v.name: v for v in cache_views(ws)}
    a, b = views["cachedContents/a"], views["cachedContents/b"]
    assert (a.calls, a.usage.cached_tokens, a.usage.long_cached_tokens) == (3, 30_000, 0)
    prices = PriceTable.default()
    flash = prices.for_model("gemini-2.5-flash")
    assert a.saved == pytest.approx(cache_saving(flash, 30_000))
    assert a.saved == pytest.approx(30_000 * (0.30 - 0.03) / 1e6)
    assert b.usage.long_cached_tokens == 200_000
    assert b.saved == pytest.approx(200_000 * (2.50 - 0.25) / 1e6)
    # Storage: 10,000 tokens at $1 / 1M / h, two hours so far.
    assert a.per_hour == pytest.approx(0.01)
    assert a.storage_so_far(NOW) == pytest.approx(0.02)
    assert a.storage_until_expiry(NOW) == pytest.approx(0.01)
    assert a.storage_so_far(NOW + 10 * 3600) == pytest.approx(0.03)  # stops at expiry


def test_long_context_savings_use_the_long_rates():
    pro = PriceTable.default().for_model("gemini-2.5-pro")
    assert cache_saving(pro, 300_000, 200_000) == pytest.approx(
        (100_000 * (1.25 - 0.125) + 200_000 * (2.50 - 0.25)) / 1e6)


def test_hit_rates_keep_implicit_and_explicit_apart(ws):
    with ws.session() as session:
        ledger.insert_many(session, [
            *calls(n=4, prompt_tokens=3000, cached_tokens=2000),
            *calls(n=2, prompt_tokens=3000, cached_tokens=0, prefix_hash="p2"),
            *calls(n=3, prompt_tokens=11_000, cached_tokens=10_000, cached_content="x"),
            *calls(n=5, prompt_tokens=3000, cached_tokens=3000, batch=True),  # batch: left out
            *calls(n=1, prompt_tokens=3000, cached_tokens=3000, at=NOW - 8 * 86_400),  # too old
            *calls(n=1, prompt_tokens=3000, status=429),
        ])
    rows = {(r.group, r.kind): r for r in hit_rates(ws, by="model")}
    implicit = rows[("gemini-2.5-flash", "implicit")]
    explicit = rows[("gemini-2.5-flash", "explicit")]
    assert (implicit.calls, implicit.prompt_tokens, implicit.cached_tokens) == (6, 18_000, 8000)
    assert implicit.rate == pytest.approx(8000 / 18_000)
    assert explicit.rate == pytest.approx(30_000 / 33_000)
    assert implicit.saved == pytest.approx(8000 * 0.27 / 1e6)
    by_prefix = hit_rates(ws, by="prefix")
    # The biggest prompt groups first.
    assert [(r.group, r.kind) for r in by_prefix] == [
        ("p1", "explicit"), ("p1", "implicit"), ("p2", "implicit")]


def test_resolve_by_name_id_or_display_name(ws):
    with ws.session() as session:
        caches.mirror_remote(session, [
            cache("cachedContents/a1", "handbook"),
            cache("cachedContents/b2", "twin"),
            cache("cachedContents/c3", "twin"),
        ], now=NOW)
    assert resolve(ws, "cachedContents/a1").display_name == "handbook"
    assert resolve(ws, "a1").name == "cachedContents/a1"
    assert resolve(ws, "handbook").name == "cachedContents/a1"
    with pytest.raises(Exception, match="names 2 caches"):
        resolve(ws, "twin")
    with pytest.raises(Exception, match="no cache called 'nope'"):
        resolve(ws, "nope")


def test_per_cache_reads_use_the_partial_index(ws):
    with ws.session() as session:
        plan = session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT cached_content, count(*) FROM ledger "
            "WHERE cached_content IN ('a', 'b') AND status = 200 GROUP BY cached_content"
        ).all()
    assert "ix_ledger_cached_content" in " ".join(str(row) for row in plan)
